/* monotime: CLOCK_MONOTONIC in milliseconds and seconds (monotime.h). */
#include <time.h>

#include "monotime.h"

double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double mono_s(void)
{
	return mono_ms() / 1e3;
}
