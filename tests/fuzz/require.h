/* Invariants in the fuzz harnesses: abort() makes libFuzzer report the
 * input as a crash, with the condition that failed on stderr. */
#ifndef FT_FUZZ_REQUIRE_H
#define FT_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define require(cond)                                                                        \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

#endif
