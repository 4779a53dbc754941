/* percentile — see percentile.h. Sorting a copy is fine: at most a few hundred samples a second. */
#include "core/percentile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void percentile_reset(struct percentile_window *w)
{
    w->count = 0;
    w->next = 0;
}

void percentile_add(struct percentile_window *w, int64_t value)
{
    w->samples[w->next] = value;
    w->next = (w->next + 1) % PERCENTILE_WINDOW_MAX;
    if (w->count < PERCENTILE_WINDOW_MAX)
        w->count++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t percentile_get(const struct percentile_window *w, double p)
{
    if (w->count == 0 || p <= 0 || p > 100)
        return -1;
    int64_t *sorted = malloc(w->count * sizeof(*sorted));
    if (!sorted)
        return -1;
    memcpy(sorted, w->samples, w->count * sizeof(*sorted));
    qsort(sorted, w->count, sizeof(*sorted), cmp_i64);
    size_t rank = (size_t)ceil(p / 100.0 * (double)w->count);
    if (rank < 1)
        rank = 1;
    int64_t v = sorted[rank - 1];
    free(sorted);
    return v;
}
