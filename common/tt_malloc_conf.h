/*  tt_malloc_conf -- jemalloc's settings for Troupe's programs.
 *
 *  jemalloc (the programs' allocator, CMakeLists.txt) reads a program's
 *  settings from its global `malloc_conf` before main; coordinator, agentd
 *  and fakellm each define it from TT_MALLOC_CONF (MALLOC_CONF in the
 *  environment still overrides).
 *
 *  Freed pages are kept, not handed back to the kernel ten seconds later: a
 *  step frees what the next one allocates again, and here each page handed
 *  back costs an madvise (and the other threads' TLB flushes) and, when used
 *  again, a page fault of ~15 us on this kind of virtual machine. 10,000
 *  agents against fakellm at 2 s: 33 k madvise calls a run -> 7 k, the
 *  longest step 11.7-12.2 -> 10.4-11.1 s, ~10% less CPU an agent-step. A
 *  process keeps what it used at its peak, which the host had to have.
 */
#ifndef TT_MALLOC_CONF_H
#define TT_MALLOC_CONF_H

#define TT_MALLOC_CONF "dirty_decay_ms:-1,muzzy_decay_ms:-1"

#endif
