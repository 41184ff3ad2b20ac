/*
 * futex_pingpong: the floor for a blocking handoff between two processes.
 *
 * Two processes map one file (each maps it itself) holding two 32-bit words, ping and pong, two
 * cache lines apart. The parent (initiator) stores round n in ping and wakes it, then sleeps on
 * pong until pong holds n. The child (responder) sleeps on ping until it moves past the last
 * round it answered, copies it into pong and wakes pong. Both sleep and wake with raw
 * SYS_futex FUTEX_WAIT / FUTEX_WAKE, without FUTEX_PRIVATE_FLAG: the words are shared by two
 * processes, so the kernel must key them by inode and offset.
 *
 * No wake is lost: a sleep names the value its caller last saw and the kernel re-checks the
 * word under its bucket lock, returning EAGAIN if it moved. Spurious returns only re-check.
 * Every round wakes unconditionally, as ringlock's ping-pong does: no waiter-present flag.
 *
 * After WARMUP rounds, ROUNDS round trips are timed one by one (CLOCK_MONOTONIC).
 *
 * Usage: futex_pingpong FILE WARMUP ROUNDS
 * Prints: RESULT futex_pingpong mean_ns=... p50_ns=... p99_ns=... p999_ns=... rounds=...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anchors.h"

#define STOP_ROUND UINT32_MAX /* rounds count up from 1 */

struct words {
	_Alignas(128) uint32_t ping; /* 128 apart: x86 prefetches cache lines in pairs */
	_Alignas(128) uint32_t pong;
};

static struct words *map_file(const char *path, int create)
{
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0)
		die(path);
	if (create && ftruncate(fd, sizeof(struct words)) != 0)
		die("ftruncate");
	void *memory = mmap(NULL, sizeof(struct words), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (memory == MAP_FAILED)
		die("mmap");
	close(fd);
	return memory;
}

/* Sleeps while *word == seen. EAGAIN (it moved) and EINTR just return: the caller re-reads. */
static void futex_wait(uint32_t *word, uint32_t seen)
{
	if (syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0) != 0 && errno != EAGAIN &&
	    errno != EINTR)
		die("futex_wait");
}

static void futex_wake_one(uint32_t *word)
{
	if (syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0) < 0)
		die("futex_wake");
}

static uint32_t load(uint32_t *word)
{
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *word, uint32_t value)
{
	__atomic_store_n(word, value, __ATOMIC_SEQ_CST);
}

static void respond(const char *path)
{
	struct words *words = map_file(path, 0);
	uint32_t answered = 0;
	for (;;) {
		uint32_t pinged = load(&words->ping);
		if (pinged == answered) {
			futex_wait(&words->ping, answered);
			continue;
		}
		if (pinged == STOP_ROUND)
			exit(0);
		answered = pinged;
		store(&words->pong, pinged);
		futex_wake_one(&words->pong);
	}
}

static void round_trip(struct words *words, uint32_t round)
{
	store(&words->ping, round);
	futex_wake_one(&words->ping);
	for (uint32_t seen; (seen = load(&words->pong)) != round;)
		futex_wait(&words->pong, seen);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE WARMUP ROUNDS\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	long warmup = atol(argv[2]), rounds = atol(argv[3]);
	if (warmup < 0 || rounds < 1 || warmup + rounds >= (long)STOP_ROUND) {
		fprintf(stderr, "bad WARMUP or ROUNDS\n");
		return 2;
	}
	uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)rounds);
	if (!samples)
		die("malloc");

	struct words *words = map_file(path, 1);
	pid_t responder = fork();
	if (responder < 0)
		die("fork");
	if (responder == 0)
		respond(path);

	uint32_t round = 0;
	for (long i = 0; i < warmup; i++)
		round_trip(words, ++round);
	for (long i = 0; i < rounds; i++) {
		uint64_t start = now_ns();
		round_trip(words, ++round);
		samples[i] = now_ns() - start;
	}

	store(&words->ping, STOP_ROUND);
	futex_wake_one(&words->ping);
	int status;
	if (waitpid(responder, &status, 0) < 0)
		die("waitpid");
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "the responder failed\n");
		return 1;
	}

	print_latency("futex_pingpong", samples, rounds);
	free(samples);
	return 0;
}
