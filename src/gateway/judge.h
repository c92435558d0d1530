/* Judging a run's output against what was expected ("expected_output" of
 * POST /v1/runs, Judge0's field of the same name): accepted or
 * wrong_answer, decided at the gateway once the run is ok.  Pure,
 * unit-tested (tests/unit/check_judge.c). */
#ifndef FT_GATEWAY_JUDGE_H
#define FT_GATEWAY_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

enum gw_compare {
	/* Each line without its trailing blanks, and no trailing empty lines:
	 * what online judges (and Judge0) forgive. */
	GW_COMPARE_TRAILING_WHITESPACE = 0,
	GW_COMPARE_EXACT, /* byte for byte */
};

/* "trailing_whitespace", "exact"; -1 from gw_compare_from_name otherwise. */
const char *gw_compare_name(enum gw_compare c);
int gw_compare_from_name(const char *name);

/* Whether got[0..got_len) matches want[0..want_len) under c. */
bool gw_output_matches(enum gw_compare c, const char *got, size_t got_len, const char *want,
		       size_t want_len);

#endif
