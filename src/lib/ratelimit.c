#include "lib/ratelimit.h"

uint64_t ft_ratelimit_roll(struct ft_ratelimit *r, int64_t now_ms)
{
	if (now_ms - r->window_ms < 1000)
		return 0;
	uint64_t held_back = r->suppressed;
	r->window_ms = now_ms;
	r->passed = 0;
	r->suppressed = 0;
	return held_back;
}

bool ft_ratelimit_admit(struct ft_ratelimit *r, int per_second)
{
	if (r->passed >= per_second) {
		r->suppressed++;
		return false;
	}
	r->passed++;
	return true;
}
