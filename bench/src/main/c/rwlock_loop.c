/*
 * rwlock_loop: the cross-process read-mostly anchor for ringlock's ReadWriteMutex.
 *
 * WORKERS forked workers (2 unless given) map one file and loop over one process-shared pthread_rwlock_t in the mapping. Each
 * operation is a read with probability READ_PERCENT (a xorshift64 draw, seeded with the pid):
 *
 *   read   rdlock, load the two 64-bit words of the shared record, compare them, unlock
 *   write  wrlock, increment both words, unlock
 *
 * Short critical sections on purpose: the figure is the lock's cost, not the work's. A read that
 * sees the two words differ saw a writer half-way ("torn"): the lock did not exclude. The parent
 * steers the phases and keeps the time (phased_workers.h: WAITING -> WARMUP -> MEASURE -> STOP;
 * an operation counts in the phase its worker saw after it). ns_per_op is per process: the parent's MEASURE..STOP wall time divided by the mean number of
 * operations one worker counted in MEASURE (readers run side by side, so the per-process time is
 * the figure a reader sees). counter_ok says both words equal every write of all workers (warm-up
 * included) and no read was torn.
 *
 * Variants (glibc's kinds, both PTHREAD_PROCESS_SHARED): "default" is what
 * pthread_rwlock_init gives (PTHREAD_RWLOCK_PREFER_READER_NP: a writer waits while any reader
 * holds, even readers that came after it); "prefer-writer" is
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP (new readers wait behind a waiting writer, as
 * ringlock's claim makes them).
 *
 * Usage: rwlock_loop default|prefer-writer FILE READ_PERCENT WARMUP_MS MEASURE_MS [WORKERS]
 * Prints: RESULT rwlock_loop VARIANT ns_per_op=... ops=... total_ops=... writes=... reads=...
 *         counter=... torn=... counter_ok=1 per_process=O1,O2,...
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anchors.h"
#include "phased_workers.h"

static int workers = 2;

/* Hot words on their own cache lines, so the counts and the phase do not slow the lock. */
struct shared {
	_Alignas(64) int phase; /* written by the parent only; read after every operation */
	_Alignas(64) pthread_rwlock_t lock;
	_Alignas(64) uint64_t first; /* the shared record: plain on purpose, only the lock */
	uint64_t second;             /* protects it; a writer increments both */
	struct {
		_Alignas(64) uint64_t total_ops; /* every operation, warm-up included */
		uint64_t measured_ops;           /* operations seen in MEASURE */
		uint64_t writes;                 /* every write, warm-up included */
		uint64_t torn;                   /* reads that saw first != second */
	} worker[MAX_WORKERS];
};

static void init_rwlock(pthread_rwlock_t *lock, int prefer_writer)
{
	pthread_rwlockattr_t attr;
	int error = pthread_rwlockattr_init(&attr);
	if (!error)
		error = pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!error && prefer_writer)
		error = pthread_rwlockattr_setkind_np(&attr,
						      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (!error)
		error = pthread_rwlock_init(lock, &attr);
	if (error)
		die_errno("pthread_rwlock_init", error);
	pthread_rwlockattr_destroy(&attr);
}

/* xorshift64 (13/7/17), as ReadMostlyChild draws: the same workload on both sides. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* What a worker is told: the file and the share of reads. */
struct work_order {
	const char *path;
	unsigned read_percent;
};

static void work(int index, const void *context)
{
	const struct work_order *order = context;
	struct shared *shared = map_file(order->path, sizeof(struct shared), 0);
	uint64_t random = (uint64_t)getpid() ^ 0x9E3779B97F4A7C15u;
	uint64_t total = 0, measured = 0, writes = 0, torn = 0;
	int phase = await_start(&shared->phase);
	while (phase != STOP) {
		int error;
		if ((next_random(&random) >> 32) % 100 < order->read_percent) {
			if ((error = pthread_rwlock_rdlock(&shared->lock)))
				die_errno("pthread_rwlock_rdlock", error);
			torn += shared->first != shared->second;
		} else {
			if ((error = pthread_rwlock_wrlock(&shared->lock)))
				die_errno("pthread_rwlock_wrlock", error);
			shared->first++;
			shared->second++;
			writes++;
		}
		if ((error = pthread_rwlock_unlock(&shared->lock)))
			die_errno("pthread_rwlock_unlock", error);
		total++;
		phase = load_phase(&shared->phase);
		measured += phase == MEASURE;
	}
	shared->worker[index].total_ops = total;
	shared->worker[index].measured_ops = measured;
	shared->worker[index].writes = writes;
	shared->worker[index].torn = torn;
}

int main(int argc, char **argv)
{
	if ((argc != 6 && argc != 7) ||
	    (strcmp(argv[1], "default") != 0 && strcmp(argv[1], "prefer-writer") != 0)) {
		fprintf(stderr,
			"usage: %s default|prefer-writer FILE READ_PERCENT WARMUP_MS MEASURE_MS [WORKERS]\n",
			argv[0]);
		return 2;
	}
	const char *variant = argv[1], *path = argv[2];
	int read_percent = atoi(argv[3]);
	if (read_percent < 0 || read_percent > 100) {
		fprintf(stderr, "READ_PERCENT must be 0..100, not %s\n", argv[3]);
		return 2;
	}
	long warmup_ms = atol(argv[4]), measure_ms = atol(argv[5]);
	if (argc == 7)
		workers = parse_workers(argv[6]);

	struct shared *shared = map_file(path, sizeof(struct shared), 1);
	init_rwlock(&shared->lock, strcmp(variant, "prefer-writer") == 0);

	struct work_order order = { .path = path, .read_percent = (unsigned)read_percent };
	int failed;
	uint64_t elapsed =
		run_phases(&shared->phase, workers, warmup_ms, measure_ms, work, &order, &failed);
	uint64_t total = 0, measured = 0, writes = 0, torn = 0;
	for (int i = 0; i < workers; i++) {
		total += shared->worker[i].total_ops;
		measured += shared->worker[i].measured_ops;
		writes += shared->worker[i].writes;
		torn += shared->worker[i].torn;
	}
	int counter_ok = !failed && measured > 0 && torn == 0 && shared->first == writes &&
			 shared->second == writes;
	printf("RESULT rwlock_loop %s ns_per_op=%.2f ops=%llu total_ops=%llu writes=%llu reads=%llu"
	       " counter=%llu torn=%llu counter_ok=%d per_process=",
	       variant, measured ? (double)elapsed * workers / (double)measured : 0.0,
	       (unsigned long long)measured, (unsigned long long)total, (unsigned long long)writes,
	       (unsigned long long)(total - writes), (unsigned long long)shared->first,
	       (unsigned long long)torn, counter_ok);
	for (int i = 0; i < workers; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)shared->worker[i].measured_ops);
	printf("\n");
	unlink(path);
	return counter_ok ? 0 : 1;
}
