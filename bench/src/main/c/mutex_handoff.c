/*
 * mutex_handoff: the floor for handing a lock from one process to another that sleeps in it.
 *
 * Two forked workers map one file holding a process-shared robust pthread mutex, a turn word and
 * a stamp, and pass the mutex back and forth: handovers are numbered 1..HANDOVERS; worker 1
 * takes the mutex first and gives it away on the odd handovers, worker 2 on the even ones.
 * Giving: sleep a millisecond (the other worker is blocked in pthread_mutex_lock by then), store
 * the stamp (CLOCK_MONOTONIC), unlock, then wait until the turn word names the other worker, so
 * that the giver asks again only once the other holds it (no barging). Taking: lock, note
 * now - stamp, store its own number in the turn word. The same protocol as the suite's Java
 * HandoffChild.
 *
 * The first WARMUP handovers wait only WARMUP_GAP_NS (the Java side needs thousands of them to
 * compile its code, and a millisecond each would take too long); the samples of the handovers
 * after them go into the file; the parent prints their statistics (print_latency in anchors.h).
 *
 * Usage: mutex_handoff FILE WARMUP HANDOVERS
 * Prints: RESULT mutex_handoff mean_ns=... p50_ns=... p99_ns=... p999_ns=... rounds=...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anchors.h"

#define GAP_NS 1000000L      /* before a measured handover: the waiter is asleep in the lock */
#define WARMUP_GAP_NS 100000L /* before a warm-up handover */

struct shared {
	_Alignas(128) pthread_mutex_t mutex;
	_Alignas(128) int turn;  /* the worker (1 or 2) that took the mutex last */
	_Alignas(128) uint64_t stamp; /* CLOCK_MONOTONIC ns just before the giver's unlock */
	_Alignas(128) uint64_t samples[]; /* by handover number - WARMUP - 1 */
};

static size_t file_size(long handovers)
{
	return sizeof(struct shared) + (size_t)handovers * sizeof(uint64_t);
}

static struct shared *map_file(const char *path, long handovers, int create)
{
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0)
		die(path);
	if (create && ftruncate(fd, (off_t)file_size(handovers)) != 0)
		die("ftruncate");
	void *memory = mmap(NULL, file_size(handovers), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (memory == MAP_FAILED)
		die("mmap");
	close(fd);
	return memory;
}

static void sleep_ns(long ns)
{
	struct timespec time = { .tv_sec = 0, .tv_nsec = ns };
	while (nanosleep(&time, &time) != 0 && errno == EINTR)
		;
}

static void lock(pthread_mutex_t *mutex)
{
	int error = pthread_mutex_lock(mutex);
	if (error == EOWNERDEAD) /* the other worker died holding it: the run fails anyway */
		error = pthread_mutex_consistent(mutex);
	if (error)
		die_errno("pthread_mutex_lock", error);
}

static void unlock(pthread_mutex_t *mutex)
{
	int error = pthread_mutex_unlock(mutex);
	if (error)
		die_errno("pthread_mutex_unlock", error);
}

/* Whether worker `me` takes the mutex on handover `n` (worker 1 takes the even ones). */
static int takes(int me, long n)
{
	return (n % 2 == 0) == (me == 1);
}

static void work(const char *path, int me, long warmup, long handovers, int *ready)
{
	struct shared *shared = map_file(path, handovers, 0);
	if (me == 1) {
		lock(&shared->mutex);
		__atomic_store_n(&shared->turn, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
	if (me == 2)
		while (__atomic_load_n(&shared->turn, __ATOMIC_SEQ_CST) != 1)
			sleep_ns(10000); /* worker 1 holds the mutex first */
	for (long n = 1; n <= handovers; n++) {
		if (!takes(me, n)) {
			sleep_ns(n <= warmup ? WARMUP_GAP_NS : GAP_NS);
			__atomic_store_n(&shared->stamp, now_ns(), __ATOMIC_SEQ_CST);
			unlock(&shared->mutex);
			while (__atomic_load_n(&shared->turn, __ATOMIC_SEQ_CST) == me)
				sleep_ns(10000);
		} else {
			lock(&shared->mutex);
			uint64_t latency = now_ns() - __atomic_load_n(&shared->stamp, __ATOMIC_SEQ_CST);
			__atomic_store_n(&shared->turn, me, __ATOMIC_SEQ_CST);
			if (n > warmup)
				shared->samples[n - warmup - 1] = latency;
		}
	}
	if (takes(me, handovers))
		unlock(&shared->mutex);
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE WARMUP HANDOVERS\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	long warmup = atol(argv[2]), handovers = atol(argv[3]);
	if (warmup < 0 || handovers <= warmup) {
		fprintf(stderr, "need 0 <= WARMUP < HANDOVERS\n");
		return 2;
	}
	struct shared *shared = map_file(path, handovers, 1);
	pthread_mutexattr_t attr;
	int error = pthread_mutexattr_init(&attr);
	if (!error)
		error = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!error)
		error = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (!error)
		error = pthread_mutex_init(&shared->mutex, &attr);
	if (error)
		die_errno("pthread_mutex_init", error);

	int *ready = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ready == MAP_FAILED)
		die("mmap");
	pid_t pids[2];
	for (int me = 1; me <= 2; me++) {
		*ready = 0;
		pids[me - 1] = fork();
		if (pids[me - 1] < 0)
			die("fork");
		if (pids[me - 1] == 0)
			work(path, me, warmup, handovers, ready);
		while (!__atomic_load_n(ready, __ATOMIC_SEQ_CST))
			sleep_ns(100000); /* worker 1 holds the mutex before worker 2 starts */
	}
	int failed = 0;
	for (int i = 0; i < 2; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) < 0)
			die("waitpid");
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	if (failed) {
		fprintf(stderr, "mutex_handoff: a worker failed\n");
		unlink(path);
		return 1;
	}
	print_latency("mutex_handoff", shared->samples, handovers - warmup);
	unlink(path);
	return 0;
}
