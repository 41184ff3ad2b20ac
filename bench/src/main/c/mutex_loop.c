/*
 * mutex_loop: the cross-process contended-lock anchor.
 *
 * WORKERS forked workers (2 unless given) map one file and loop: lock a process-shared pthread
 * mutex, increment a plain 64-bit counter in the mapping, unlock. The parent only steers the
 * phases and keeps the time (phased_workers.h: WAITING -> WARMUP -> MEASURE -> STOP; a section
 * counts in the phase its worker saw after it). ns_per_cs is the parent's MEASURE..STOP wall time divided by the sections all workers
 * counted in MEASURE: a throughput figure, like the Java variants of CrossProcessBench.
 * counter_ok says the counter equals every section of all workers (warm-up included), i.e. the
 * mutex really excluded.
 *
 * Acquire latency: a worker times every SAMPLE_EVERY-th acquisition it makes in MEASURE, from
 * just before pthread_mutex_lock to holding the mutex (CLOCK_MONOTONIC), and keeps a uniform
 * sample of at most CAPACITY of them with Algorithm R in its slot of the mapping: the method of
 * the Java side's LatencyReservoir, step for step (xorshift64 13/7/17 seeded with the pid, the
 * slot from the high half of a 64 x 64-bit product). The parent prints every worker's sample on
 * its RESULT line and the driver merges them as it merges the Java processes'.
 *
 * Variants: "robust" is PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST (glibc keeps the lock on
 * the thread's robust list, so a dead owner is detected: EOWNERDEAD); "plain" is
 * PTHREAD_PROCESS_SHARED only.
 *
 * Usage: mutex_loop robust|plain FILE WARMUP_MS MEASURE_MS [WORKERS, 2..MAX_WORKERS, default 2]
 * Prints: RESULT mutex_loop VARIANT ns_per_cs=... ops=... total_ops=... counter=... counter_ok=1
 *         timed=T1,T2,... kept=K1,K2,... samples=(worker 1's K1 ns),(worker 2's K2),...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anchors.h"
#include "phased_workers.h"
#define CAPACITY 20000   /* samples kept per worker: LatencyReservoir.CAPACITY */
#define SAMPLE_EVERY 64  /* LatencyReservoir.SAMPLE_EVERY */

static int workers = 2;

/* Hot words on their own cache lines, so the counts and the phase do not slow the mutex. */
struct shared {
	_Alignas(64) int phase; /* written by the parent only; read after every section */
	_Alignas(64) pthread_mutex_t mutex;
	uint64_t counter; /* plain on purpose: only the mutex protects it */
	struct {
		_Alignas(64) uint64_t total_ops; /* every section, warm-up included */
		uint64_t measured_ops;           /* sections seen in MEASURE */
		uint64_t timed;                  /* acquisitions timed (offered to the reservoir) */
		uint64_t kept[CAPACITY];         /* the first min(timed, CAPACITY) are a uniform sample */
	} worker[MAX_WORKERS];
};

/* Algorithm R over the worker's slot: see LatencyReservoir.java. */
struct reservoir {
	uint64_t *kept;
	uint64_t timed;
	uint64_t random; /* xorshift64 state, never 0 */
};

static struct reservoir reservoir_of(uint64_t *kept, uint64_t seed)
{
	uint64_t random = seed ^ 0x9E3779B97F4A7C15u;
	return (struct reservoir){ .kept = kept, .random = random ? random : 0x9E3779B97F4A7C15u };
}

static void reservoir_offer(struct reservoir *reservoir, uint64_t latency)
{
	uint64_t timed = ++reservoir->timed;
	if (timed <= CAPACITY) {
		reservoir->kept[timed - 1] = latency;
		return;
	}
	uint64_t x = reservoir->random;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	reservoir->random = x;
	uint64_t slot = (uint64_t)(((unsigned __int128)x * timed) >> 64); /* uniform in [0, timed) */
	if (slot < CAPACITY)
		reservoir->kept[slot] = latency;
}

static void init_mutex(pthread_mutex_t *mutex, int robust)
{
	pthread_mutexattr_t attr;
	int error = pthread_mutexattr_init(&attr);
	if (!error)
		error = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!error && robust)
		error = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (!error)
		error = pthread_mutex_init(mutex, &attr);
	if (error)
		die_errno("pthread_mutex_init", error);
	pthread_mutexattr_destroy(&attr);
}

static void lock(pthread_mutex_t *mutex)
{
	int error = pthread_mutex_lock(mutex);
	if (error == EOWNERDEAD) /* a worker died holding it: the run fails on counter_ok anyway */
		error = pthread_mutex_consistent(mutex);
	if (error)
		die_errno("pthread_mutex_lock", error);
}

/* A worker: context is the file's path. */
static void work(int index, const void *context)
{
	struct shared *shared = map_file(context, sizeof(struct shared), 0);
	struct reservoir latencies = reservoir_of(shared->worker[index].kept, (uint64_t)getpid());
	uint64_t total = 0, measured = 0;
	int until_timed = SAMPLE_EVERY;
	int phase = await_start(&shared->phase);
	while (phase != STOP) {
		int timed = phase == MEASURE && --until_timed == 0;
		uint64_t before = timed ? now_ns() : 0;
		lock(&shared->mutex);
		if (timed) {
			reservoir_offer(&latencies, now_ns() - before);
			until_timed = SAMPLE_EVERY;
		}
		shared->counter++;
		int error = pthread_mutex_unlock(&shared->mutex);
		if (error)
			die_errno("pthread_mutex_unlock", error);
		total++;
		phase = load_phase(&shared->phase);
		measured += phase == MEASURE;
	}
	shared->worker[index].total_ops = total;
	shared->worker[index].measured_ops = measured;
	shared->worker[index].timed = latencies.timed;
}

static uint64_t kept_count(const struct shared *shared, int worker)
{
	uint64_t timed = shared->worker[worker].timed;
	return timed < CAPACITY ? timed : CAPACITY;
}

/* " timed=T1,T2,... kept=K1,K2,... samples=..." and the end of the line: what LatencyReservoir parses. */
static void print_samples(const struct shared *shared)
{
	printf(" timed=");
	for (int i = 0; i < workers; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)shared->worker[i].timed);
	printf(" kept=");
	for (int i = 0; i < workers; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)kept_count(shared, i));
	printf(" samples=");
	const char *separator = "";
	for (int i = 0; i < workers; i++) {
		for (uint64_t k = 0; k < kept_count(shared, i); k++) {
			printf("%s%llu", separator, (unsigned long long)shared->worker[i].kept[k]);
			separator = ",";
		}
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	if ((argc != 5 && argc != 6) ||
	    (strcmp(argv[1], "robust") != 0 && strcmp(argv[1], "plain") != 0)) {
		fprintf(stderr, "usage: %s robust|plain FILE WARMUP_MS MEASURE_MS [WORKERS]\n", argv[0]);
		return 2;
	}
	if (argc == 6)
		workers = parse_workers(argv[5]);
	const char *variant = argv[1], *path = argv[2];
	long warmup_ms = atol(argv[3]), measure_ms = atol(argv[4]);

	struct shared *shared = map_file(path, sizeof(struct shared), 1);
	init_mutex(&shared->mutex, strcmp(variant, "robust") == 0);

	int failed;
	uint64_t elapsed =
		run_phases(&shared->phase, workers, warmup_ms, measure_ms, work, path, &failed);
	uint64_t total = 0, measured = 0;
	for (int i = 0; i < workers; i++) {
		total += shared->worker[i].total_ops;
		measured += shared->worker[i].measured_ops;
	}
	int counter_ok = !failed && measured > 0 && shared->counter == total;
	printf("RESULT mutex_loop %s ns_per_cs=%.2f ops=%llu total_ops=%llu counter=%llu counter_ok=%d",
	       variant, measured ? (double)elapsed / (double)measured : 0.0,
	       (unsigned long long)measured, (unsigned long long)total,
	       (unsigned long long)shared->counter, counter_ok);
	print_samples(shared);
	unlink(path);
	return counter_ok ? 0 : 1;
}
