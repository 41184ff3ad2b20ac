/*
 * anchors.h: what the C anchors share: failing loudly, the monotonic clock, and the latency
 * RESULT line (nearest-rank percentiles, the same as the Java side's RoundTripStats).
 * Header-only: each anchor is one translation unit compiled on its own.
 */
#ifndef RINGLOCK_ANCHORS_H
#define RINGLOCK_ANCHORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

static inline void die_errno(const char *what, int error)
{
	fprintf(stderr, "%s: %s\n", what, strerror(error));
	exit(2);
}

static inline uint64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static inline int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least fraction p of the samples at or below it. */
static inline uint64_t percentile(const uint64_t *sorted, long n, double p)
{
	long rank = (long)(p * (double)n + 0.999999);
	return sorted[(rank < 1 ? 1 : rank) - 1];
}

/* Sorts the n samples (ns) in place and prints RESULT <program> mean_ns= p50_ns= ... rounds=n. */
static inline void print_latency(const char *program, uint64_t *samples, long n)
{
	double sum = 0;
	for (long i = 0; i < n; i++)
		sum += (double)samples[i];
	qsort(samples, (size_t)n, sizeof(uint64_t), compare_u64);
	printf("RESULT %s mean_ns=%.0f p50_ns=%llu p99_ns=%llu p999_ns=%llu rounds=%ld\n", program,
	       sum / (double)n, (unsigned long long)percentile(samples, n, 0.50),
	       (unsigned long long)percentile(samples, n, 0.99),
	       (unsigned long long)percentile(samples, n, 0.999), n);
}

#endif
