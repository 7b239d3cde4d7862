/* bench_floor.c: the start-up floor. Does nothing, but is linked (with
 * --no-as-needed) against every library slbscript loads, so its run time
 * is what exec and the dynamic loader cost before any slbscript code. */
int main(void)
{
  return 0;
}
