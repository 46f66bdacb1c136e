/* monotime: the one clock of svcnft's timings, timeouts and debounces:
 * CLOCK_MONOTONIC in milliseconds (never steps with the wall clock). */
#ifndef SVCNFT_MONOTIME_H
#define SVCNFT_MONOTIME_H

double mono_ms(void);
/* The same clock in seconds (deadlines, debounces). */
double mono_s(void);

#endif
