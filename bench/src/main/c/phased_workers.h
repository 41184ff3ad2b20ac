/*
 * phased_workers.h: the scaffolding the loop anchors (mutex_loop.c, rwlock_loop.c) share. The
 * parent creates and maps a file, forks WORKERS workers that map it again (each maps it itself,
 * as unrelated programs would), steers them through the phases with one word in the file and
 * keeps the time:
 *
 *   WAITING -> WARMUP (warmup_ms) -> MEASURE (measure_ms) -> STOP
 *
 * A worker waits out WAITING (await_start), then reads the phase after every operation and counts
 * the operation in the phase it saw. The phase word is written by the parent only (release) and
 * read by the workers (acquire). Header-only, like anchors.h: each anchor is one translation unit.
 */
#ifndef RINGLOCK_PHASED_WORKERS_H
#define RINGLOCK_PHASED_WORKERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anchors.h"

enum phase { WAITING, WARMUP, MEASURE, STOP };

#define MAX_WORKERS 8

/* Maps `size` bytes of the file at `path` shared, creating (and sizing) it if `create`. */
static inline void *map_file(const char *path, size_t size, int create)
{
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0)
		die(path);
	if (create && ftruncate(fd, (off_t)size) != 0)
		die("ftruncate");
	void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (memory == MAP_FAILED)
		die("mmap");
	close(fd); /* the mapping keeps the file */
	return memory;
}

static inline int load_phase(const int *phase)
{
	return __atomic_load_n(phase, __ATOMIC_ACQUIRE);
}

static inline void set_phase(int *phase, int value)
{
	__atomic_store_n(phase, value, __ATOMIC_RELEASE);
}

/* A worker's start: waits while the phase is WAITING, and returns the phase it then saw. */
static inline int await_start(const int *phase)
{
	int seen;
	while ((seen = load_phase(phase)) == WAITING)
		usleep(100); /* politely: the other workers may still be starting */
	return seen;
}

/* The optional WORKERS argument, 2..MAX_WORKERS; exits 2 naming it otherwise. */
static inline int parse_workers(const char *argument)
{
	int workers = atoi(argument);
	if (workers < 2 || workers > MAX_WORKERS) {
		fprintf(stderr, "WORKERS must be 2..%d, not %s\n", MAX_WORKERS, argument);
		exit(2);
	}
	return workers;
}

static inline void sleep_ms(long ms)
{
	struct timespec time = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&time, &time) != 0 && errno == EINTR)
		;
}

/*
 * The parent's part: forks `workers` workers, each running work(index, context) (which must
 * exit), steers them through the phases, and waits for them all. Returns the MEASURE..STOP wall
 * time in ns; *failed says whether any worker did not exit with 0.
 */
static inline uint64_t run_phases(int *phase, int workers, long warmup_ms, long measure_ms,
				  void (*work)(int index, const void *context), const void *context,
				  int *failed)
{
	pid_t pids[MAX_WORKERS];
	for (int i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			work(i, context);
			exit(0);
		}
	}

	set_phase(phase, WARMUP);
	sleep_ms(warmup_ms);
	uint64_t start = now_ns();
	set_phase(phase, MEASURE);
	sleep_ms(measure_ms);
	set_phase(phase, STOP);
	uint64_t elapsed = now_ns() - start;

	*failed = 0;
	for (int i = 0; i < workers; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) < 0)
			die("waitpid");
		*failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	return elapsed;
}

#endif
