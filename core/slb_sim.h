/* slb_sim.h: an in-process stand-in for the SLB service, answering from an
 * inventory file, so a policy can be tried without a cloud account. */
#ifndef SLB_SIM_H
#define SLB_SIM_H

#include <stddef.h>

#include "slb_buf.h"
#include "slb_sign.h"

typedef struct slb_sim slb_sim;

/* Reads an inventory (format in the README). now_ms anchors the relative
 * fields expires_in_days and created_days_ago. NULL with err on failure. */
slb_sim *slb_sim_parse(const char *text, size_t len, long long now_ms,
                       char *err, size_t errlen);
slb_sim *slb_sim_load(const char *path, long long now_ms, char *err,
                      size_t errlen);
void slb_sim_free(slb_sim *sim);

/* The first region of the inventory, or NULL when it has none: the
 * region a simulation uses when none is configured. */
const char *slb_sim_first_region(const slb_sim *sim);

/* Answers one call as the service would: fills status and a JSON body.
 * Returns 0, or -1 when out of memory. */
int slb_sim_handle(slb_sim *sim, const char *region, const char *action,
                   const slb_params *params, long *status, slb_buf *body);

#endif
