/* slb_multi.c: many calls at once on one libcurl multi handle, which keeps
 * their connections alive between requests. Attempts waiting out a
 * backoff, or a rate cap, sit in a queue until their time comes. */
#include <stdlib.h>
#include <string.h>

#include "slb_internal.h"

struct slb_multi {
  CURLM *multi;
  CURL **idle;                 /* easy handles ready for reuse */
  size_t idle_count, idle_cap;
  slb_op *waiting;             /* queued for their next attempt */
  slb_op *in_transfer;         /* attempts running in the multi */
  slb_op *done_head, *done_tail;
  int running;
  double rate;                 /* attempts per second; 0: no cap */
  double next_start;           /* monotonic ms when the cap allows one */
};

slb_multi *slb_multi_new(double rate)
{
  slb_multi *m = calloc(1, sizeof(*m));

  if(!m)
    return NULL;
  m->multi = curl_multi_init();
  if(!m->multi) {
    free(m);
    return NULL;
  }
  m->rate = rate > 0 ? rate : 0;
  return m;
}

/* Ends an op the multi still holds: freed if its owner let go of it,
 * otherwise finished as cancelled for its owner to collect. */
static void release(slb_op *op)
{
  op->in_multi = 0;
  if(op->abandoned) {
    slb_op_free(op);
    return;
  }
  if(!op->done)
    slb_op_cancel(op);
}

static void release_list(slb_op *op)
{
  while(op) {
    slb_op *next = op->next;
    release(op);
    op = next;
  }
}

void slb_multi_free(slb_multi *m)
{
  slb_op *op, *next;
  size_t i;

  if(!m)
    return;
  for(op = m->in_transfer; op; op = next) {
    next = op->next;
    curl_multi_remove_handle(m->multi, op->easy);
    curl_easy_cleanup(op->easy);
    op->easy = NULL;
    op->transfer = 0;
    slb_request_free(&op->req);
    release(op);
  }
  release_list(m->waiting);
  release_list(m->done_head);
  for(i = 0; i < m->idle_count; i++)
    curl_easy_cleanup(m->idle[i]);
  free(m->idle);
  curl_multi_cleanup(m->multi);
  free(m);
}

int slb_multi_pending(const slb_multi *m)
{
  const slb_op *op;
  int n = m->running;

  for(op = m->waiting; op; op = op->next)
    n++;
  for(op = m->done_head; op; op = op->next)
    n++;
  return n;
}

static void push_done(slb_multi *m, slb_op *op)
{
  op->next = NULL;
  if(m->done_tail)
    m->done_tail->next = op;
  else
    m->done_head = op;
  m->done_tail = op;
}

int slb_multi_add(slb_multi *m, slb_op *op)
{
  op->in_multi = 1;
  if(op->done) {
    push_done(m, op);
    return 0;
  }
  /* Waiting ops start in the order they came: the list is short (at
   * most the concurrency), so walking it to the end is cheap. */
  {
    slb_op **link = &m->waiting;
    while(*link)
      link = &(*link)->next;
    op->next = NULL;
    *link = op;
  }
  return 0;
}

static CURL *take_easy(slb_multi *m)
{
  if(m->idle_count)
    return m->idle[--m->idle_count];
  return curl_easy_init();
}

static void give_back(slb_multi *m, CURL *easy)
{
  if(m->idle_count == m->idle_cap) {
    size_t cap = m->idle_cap ? m->idle_cap * 2 : 8;
    CURL **grown = realloc(m->idle, cap * sizeof(*grown));
    if(!grown) {
      curl_easy_cleanup(easy);
      return;
    }
    m->idle = grown;
    m->idle_cap = cap;
  }
  m->idle[m->idle_count++] = easy;
}

/* One attempt of op, or its end when it cannot even be sent. */
static void start(slb_multi *m, slb_op *op)
{
  op->easy = take_easy(m);
  if(!op->easy) {
    slb_set_error(&op->err, SLB_E_INTERNAL, "out of memory");
    slb_op_finish_attempt(op, CURLE_OK);
  }
  else if(slb_op_start_attempt(op) || !op->transfer) {
    /* Built nothing to send (an error, or a simulation): settle now. */
    give_back(m, op->easy);
    if(slb_op_finish_attempt(op, CURLE_OK)) {
      push_done(m, op);
      return;
    }
  }
  else if(curl_multi_add_handle(m->multi, op->easy) == CURLM_OK) {
    m->running++;
    op->next = m->in_transfer;
    m->in_transfer = op;
    return;
  }
  else {
    slb_set_error(&op->err, SLB_E_INTERNAL, "cannot start a transfer");
    curl_easy_setopt(op->easy, CURLOPT_HTTPHEADER, NULL);
    give_back(m, op->easy);
    op->transfer = 0;
    slb_op_finish_attempt(op, CURLE_OK);
  }
  if(op->done)
    push_done(m, op);
  else
    slb_multi_add(m, op);
}

/* Starts every waiting op whose time has come, as the rate cap allows.
 * Returns how long until the next one may start (ms), or -1. */
static long start_due(slb_multi *m)
{
  slb_op **link = &m->waiting;
  double now = slb_monotonic_ms(), next = -1;

  while(*link) {
    slb_op *op = *link;
    double due = op->not_before;
    if(m->rate && due < m->next_start)
      due = m->next_start;
    if(due > now) {
      if(next < 0 || due < next)
        next = due;
      link = &op->next;
      continue;
    }
    *link = op->next;
    if(m->rate)
      m->next_start = (now > m->next_start ? now : m->next_start) +
                      1000.0 / m->rate;
    start(m, op);
  }
  return next < 0 ? -1 : (long)(next - now) + 1;
}

static void unlink_transfer(slb_multi *m, slb_op *op)
{
  slb_op **link = &m->in_transfer;

  while(*link && *link != op)
    link = &(*link)->next;
  if(*link)
    *link = op->next;
  op->next = NULL;
}

static void collect(slb_multi *m)
{
  CURLMsg *msg;
  int left;

  while((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    slb_op *op = NULL;
    CURL *easy = msg->easy_handle;
    if(msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&op);
    curl_multi_remove_handle(m->multi, easy);
    unlink_transfer(m, op);
    m->running--;
    if(slb_op_finish_attempt(op, msg->data.result))
      push_done(m, op);
    else
      slb_multi_add(m, op);
    give_back(m, easy);
  }
}

slb_op *slb_multi_next(slb_multi *m)
{
  for(;;) {
    long wait;
    int still;
    if(m->done_head) {
      slb_op *op = m->done_head;
      m->done_head = op->next;
      if(!m->done_head)
        m->done_tail = NULL;
      op->next = NULL;
      op->in_multi = 0;
      if(op->abandoned) {               /* nobody waits for it */
        slb_op_free(op);
        continue;
      }
      return op;
    }
    wait = start_due(m);
    if(m->done_head)
      continue;
    if(!m->running && wait < 0)
      return NULL;
    curl_multi_perform(m->multi, &still);
    collect(m);
    if(m->done_head)
      continue;
    curl_multi_poll(m->multi, NULL, 0,
                    (int)(wait < 0 || wait > 1000 ? 1000 : wait), NULL);
  }
}
