package dev.ringlock.bench.suite;

import java.util.List;

/**
 * The project's performance goals, on io_uring and on the futex-syscalls backend (the same run
 * measures each of them beside the io_uring row and the C anchor), with what is known when one
 * fails.
 */
final class Goals {
  private Goals() {}

  static List<Goal> all() {
    return List.of(
        new Goal(
            "Uncontended lock + unlock vs ReentrantLock",
            new String[] {"uncontended", "ringlockLock"},
            new String[] {"uncontended", "reentrantLock"},
            false,
            1.5,
            false,
            "×",
            "No system call and no ring on this path (the compass aims at 1.3x). ReentrantLock"
                + " makes one CAS and one volatile store (two locked instructions on x86) and"
                + " allocates nothing; ringlock makes two as well since layout version 6: the"
                + " word's CAS, and the release's 64-bit CAS of the word and the hold tag beside it"
                + " (the once-only claim, freeing the word and reading WAITERS in one step)."
                + " Thread CPU time 36.8-38.7 -> 32.0-38.9 ns against 13.4-14.2 ns (2.7x ->"
                + " 2.3-2.7x, load 25-30). What is left: the loads of the closed flag, the queue"
                + " length, the starving summary, the fence and the tag, and a memory-segment check"
                + " on each access, which also make lock() compile to about 5 KB: C2 does not"
                + " inline a callee already compiled past InlineSmallCode (2,500 B), so in JMH's"
                + " fork the guard and its future are allocated (56 B/op; 0 B/op once lock() is"
                + " inlined, as with -XX:InlineSmallCode=20000). bench/README.md has the"
                + " measurements."),
        new Goal(
            "Uncontended lock + unlock on the syscalls backend vs on io_uring (unchanged)",
            new String[] {"uncontended", "ringlockLock" + BenchmarkSuite.ON_SYSCALLS},
            new String[] {"uncontended", "ringlockLock"},
            false,
            1.15,
            false,
            "×",
            "The same code runs on both: an uncontended lock and unlock touch the word, the guard"
                + " and the starving table, never the ring. A gap here is the noise of two JMH"
                + " runs a minute apart on a shared 2-vCPU VM (consecutive runs of one row differ"
                + " by up to ±15 %); compare the ringlockTryLock pair."),
        new Goal(
            "1000-task async contention vs IBM FairAsyncLock (throughput)",
            new String[] {"async-contention", "ringlockMutex"},
            new String[] {"async-contention", "fairAsyncLock"},
            true,
            1.0,
            false,
            "×",
            "Both hand the lock from task to task in memory, but ringlock's state is a word in a"
                + " mapped file: every acquire and release goes through memory-segment accessors"
                + " (session liveness and bounds checks, the word's atomics, the starving table)"
                + " where FairAsyncLock touches heap fields. A JFR profile of this benchmark"
                + " (profile settings, 367 samples) put 22 % of the samples' top frames in that"
                + " mapped-memory access, 27 % in the executor's queue that both share and 23 % in"
                + " the rest of ringlock. The run-to-run spread of both rows on this 2-vCPU VM is"
                + " ±15–30 % (full runs so far: 0.81–0.95×)."),
        new Goal(
            "2-process contended loop: times faster than FileChannel.lock",
            new String[] {"xproc-loop-2", "FileChannel.lock"},
            new String[] {"xproc-loop-2", "ringlock Mutex"},
            true,
            50,
            false,
            "×",
            "Per acquisition, not per wait: the acquire-latency columns show that waits longer"
                + " than ~3 µs are under 0.1 % of acquisitions for ringlock as for pthread, while"
                + " ringlock's typical acquisition (p50) costs some 20 ns more. That is the"
                + " uncontended path of the first goal (the guard and its future, the fence, the"
                + " starving-table check), run while the word's cache line moves between the"
                + " processes. Earlier runs: 30–62× with the machine's load."),
        new Goal(
            "2-process contended loop vs robust pthread mutex",
            new String[] {"xproc-loop-2", "ringlock Mutex"},
            new String[] {"xproc-loop-2", "pthread mutex, shared + robust (C)"},
            false,
            1.5,
            false,
            "×",
            "See the previous goal: the per-acquisition path, not the waits. Earlier runs:"
                + " 1.1–2.2×."),
        new Goal(
            "4-process contended loop vs robust pthread mutex",
            new String[] {"xproc-loop-4", "ringlock Mutex"},
            new String[] {"xproc-loop-4", "pthread mutex, shared + robust (C)"},
            false,
            2.0,
            false,
            "×",
            "As with 2 processes, plus the queued acquisitions: with 4 processes more of them sleep,"
                + " and a waiter that sleeps is woken twice (its ring's completion thread, then"
                + " the joined thread) where a pthread waiter is woken once."),
        new Goal(
            "Lock handoff to a waiter blocked in lock().join(), 2 processes, vs robust pthread"
                + " mutex",
            new String[] {"xproc-lock-handoff", "ringlock Mutex"},
            new String[] {"xproc-lock-handoff", "pthread mutex, shared + robust (C)"},
            false,
            2.0,
            false,
            "×",
            "Two sleeping-thread wake-ups per handover (the waiter's ring thread, which takes the"
                + " word and grants the future, then the joined thread) where pthread needs one."
                + " Tried on a branch, not merged: the joined thread taking the process's kernel"
                + " wait over and sleeping in futex_waitv itself, woken once; the ping-pong ratio"
                + " to C went from 2.96x to 2.30x, lock requests measured slower, and on the"
                + " syscalls backend a jcstress test of the take-over racing a wake lost a wake."),
        new Goal(
            "2-process contended loop on the syscalls backend vs robust pthread mutex",
            new String[] {"xproc-loop-2", "ringlock Mutex (syscalls)"},
            new String[] {"xproc-loop-2", "pthread mutex, shared + robust (C)"},
            false,
            2.0,
            false,
            "×",
            "Both backends share the uncontended path; a contended wait costs a futex_waitv"
                + " thread's wake-up and each wake is its own system call (docs/backends.md)."),
        new Goal(
            "Uncontended semaphore acquire + release vs j.u.c Semaphore",
            new String[] {"semaphore-uncontended", "uncontendedRinglockAcquire"},
            new String[] {"semaphore-uncontended", "uncontendedJucSemaphore"},
            false,
            1.5,
            false,
            "×",
            "The benchmark's semaphore has undo on exit (the default: a holder that dies gives its"
                + " permits back), which records each holder in the region's holder table: two"
                + " CASes each way (the entry's BUSY mark, which is also the view's lock, and the"
                + " word) and a release store of the entry, where j.u.c makes one CAS. Without undo"
                + " the same path measured 17.2 ns against 13.9 ns (1.24x, thread CPU time); with"
                + " it 81-86 ns (5.9x) before the move lost its third CAS and its Java lock, 38-55"
                + " ns (2.8-3.5x) after. What is left is the BUSY CAS: removing it needs an entry"
                + " with a single writer (docs/semaphore-undo.md)."),
        new Goal(
            "1000-task async contention, semaphore vs IBM FairAsyncSemaphore (throughput)",
            new String[] {"semaphore-contended", "contendedRinglock"},
            new String[] {"semaphore-contended", "contendedIbmFairAsyncSemaphore"},
            true,
            1.0,
            false,
            "×",
            "As the mutex's async contention: the permits are a word in a mapped file, and each"
                + " grant moves the undo record as well."),
        new Goal(
            "Cross-process handoff round trip vs C futex ping-pong, blocked threads",
            new String[] {"xproc-handoff", "ringlock ring, threads both sides"},
            new String[] {"xproc-handoff", "futex syscalls (C)"},
            false,
            1.3,
            false,
            "×",
            "With a thread blocked in join() on each side, every hop is the sender's direct"
                + " FUTEX_WAKE (a WakeSignal while its ring sleeps), the receiving ring's completion"
                + " thread and then the parked thread: two sleeping-thread wake-ups where the C"
                + " ping-pong needs one. perf sched on this VM, lock handoff to a thread in"
                + " join(): the completion thread waited a median 7 µs to be scheduled after the"
                + " wake and then ran 12 µs (reap, take the word, complete the future, unpark)"
                + " before the joined thread's own scheduling delay. With the responder a"
                + " continuation (next goal) the second wake-up is gone. The C floor is itself"
                + " bimodal here (~6 µs while the guest's haltpoll keeps vCPUs polling, ~50 µs"
                + " once they halt)."),
        new Goal(
            "Cross-process handoff round trip vs C futex ping-pong, continuation responder",
            new String[] {
              "xproc-handoff", "ringlock ring, thread initiator, continuation responder"
            },
            new String[] {"xproc-handoff", "futex syscalls (C)"},
            false,
            1.3,
            false,
            "×",
            "The initiator still parks a thread in join() (one extra wake-up per round trip);"
                + " the C floor moves between ~6 and ~50 µs with the VM's idle polling."),
        new Goal(
            "Cross-process handoff round trip on the syscalls backend vs C futex ping-pong,"
                + " blocked threads",
            new String[] {
              "xproc-handoff", "ringlock ring, threads both sides" + BenchmarkSuite.ON_SYSCALLS
            },
            new String[] {"xproc-handoff", "futex syscalls (C)"},
            false,
            1.3,
            false,
            "×",
            SYSCALLS_HANDOFF),
        new Goal(
            "Cross-process handoff round trip on the syscalls backend vs C futex ping-pong,"
                + " continuation responder",
            new String[] {
              "xproc-handoff",
              "ringlock ring, thread initiator, continuation responder" + BenchmarkSuite.ON_SYSCALLS
            },
            new String[] {"xproc-handoff", "futex syscalls (C)"},
            false,
            1.3,
            false,
            "×",
            SYSCALLS_HANDOFF),
        new Goal(
            "wakeAll of 1024 waiters vs 1024 futex_wake syscalls",
            new String[] {"wake-1024", "queueWakeAll"},
            new String[] {"wake-1024", "syscallPerWaiter"},
            false,
            0.6,
            false,
            "×",
            "All 1024 FUTEX_WAKEs go in one io_uring_enter; see WaitQueueWakeBenchmark."),
        new Goal(
            "wakeAll of 1024 waiters on the syscalls backend vs 1024 futex_wake syscalls",
            new String[] {"wake-1024", "queueWakeAll" + BenchmarkSuite.ON_SYSCALLS},
            new String[] {"wake-1024", "syscallPerWaiter"},
            false,
            1.1,
            false,
            "×",
            SYSCALLS_WAKE_ALL),
        new Goal(
            "Uncontended read + unlock vs ReentrantReadWriteLock's read lock",
            new String[] {BenchmarkSuite.RW_UNCONTENDED_READ, "ringlockUncontendedRead"},
            new String[] {BenchmarkSuite.RW_UNCONTENDED_READ, "reentrantUncontendedRead"},
            false,
            1.5,
            false,
            "×",
            RW_UNCONTENDED_READ),
        new Goal(
            "Read-mostly ("
                + BenchmarkSuite.READ_MOSTLY_PERCENT
                + " % reads) in-process throughput vs IBM FairAsyncReadWriteLock",
            new String[] {
              BenchmarkSuite.RW_MIXED + BenchmarkSuite.READ_MOSTLY_PERCENT, "ringlockMixed"
            },
            new String[] {BenchmarkSuite.RW_MIXED + BenchmarkSuite.READ_MOSTLY_PERCENT, "ibmMixed"},
            true,
            1.0,
            false,
            "×",
            RW_MIXED),
        new Goal(
            "2-process read-mostly loop vs process-shared pthread_rwlock",
            new String[] {BenchmarkSuite.XPROC_READ_MOSTLY, BenchmarkSuite.RINGLOCK_RW},
            new String[] {BenchmarkSuite.XPROC_READ_MOSTLY, BenchmarkSuite.PTHREAD_RWLOCK},
            false,
            2.0,
            false,
            "×",
            RW_TWO_PROCESSES),
        new Goal(
            "Heap per pending waiter",
            new String[] {"footprint", null},
            null,
            false,
            300,
            false,
            " bytes",
            "The waiter's future, its queue entry and the ring's request record; the queue's"
                + " per-slot tables are counted in too."),
        new Goal(
            "Owner-death takeover p99",
            new String[] {"takeover", "ringlock Mutex"},
            null,
            false,
            100,
            true,
            " ms",
            "Most of it is the kernel tearing the killed process down before its pidfd becomes"
                + " readable (see the pidfd row in the takeover notes)."),
        new Goal(
            "Owner-death takeover p99 on the syscalls backend",
            new String[] {"takeover", "ringlock Mutex" + BenchmarkSuite.ON_SYSCALLS},
            null,
            false,
            100,
            true,
            " ms",
            "The exit watch is a poll(2) thread on the holder's pidfd, woken when the kernel has"
                + " torn the killed process down (the pidfd row in the takeover notes); then the"
                + " completion thread cancels the wait and takes the word."));
  }

  // What is known when a read-write goal fails; completed from the measurements (bench/README.md).
  private static final String RW_UNCONTENDED_READ =
      "No system call and no ring on this path, but three locked instructions where"
          + " ReentrantReadWriteLock's first reader has two: the view's reader record's getAndAdd"
          + " on entry and compare-and-set on exit (the protocol; a record per view since layout"
          + " version 6, so close() needs no heap count) and the guard's once-only release (a"
          + " CAS, which also keeps C2 from removing the 24-byte guard). Thread CPU time on this"
          + " VM, one sitting: 36-42 -> 26-32 ns against 14-17 ns (2.5-2.9x -> 1.9-2.1x). Two would"
          + " need the guard's claim merged into the record's CAS, which cannot tell two racing"
          + " unlocks of one guard apart: docs/read-write-mutex.md, \"What a read costs\".";

  private static final String RW_MIXED =
      "Both threads' reads add to the same process's reader record, so with 2 threads every read"
          + " moves that cache line between the cores (a JFR profile: 49 % of the samples in"
          + " leaveRead/unblockWriter, 17 % in wake downcalls for queued writers), as"
          + " FairAsyncReadWriteLock's heap state moves; the spread between runs on this shared"
          + " VM (0.42-1.2x so far) is larger than the gap.";

  private static final String RW_TWO_PROCESSES =
      "Almost all of it is the few operations that queue: the note under the table gives their"
          + " share (0.2-6 % of writes, under 0.2 % of reads) and their waits (40-170 ms on"
          + " average at load 20-30, up to ~420 ms, 37-81 % of the measured time). A pthread"
          + " waiter sleeps in futex_wait itself and is woken once; a ringlock waiter is granted"
          + " by its ring's thread and then its joined thread is unparked: two wake-ups, each a"
          + " scheduling delay under load. Waits beyond the lock's 250 ms re-check also appear"
          + " (a missed wake, or load; bench/README.md).";

  private static final String SYSCALLS_HANDOFF =
      "On this backend a wait sleeps in a futex_waitv thread, which hands the outcome to the"
          + " ring's completion thread: with a responder thread blocked in join() each hop is the"
          + " sender's futex(2) wake, the receiver's futex_waitv thread, its completion thread and"
          + " the parked thread, three sleeping-thread wake-ups where the C ping-pong needs one;"
          + " with a continuation responder, two on the responder's side.";

  private static final String SYSCALLS_WAKE_ALL =
      "On this backend N wakes are N futex(2) calls on the waker's thread, as in the baseline, but"
          + " each is made in order: before every wake the waker waits (spin, yield, then 20 µs"
          + " parks, at most 200 ms) until each futex_waitv thread of its process sleeps in the"
          + " kernel again. 1024 waits fill 9 threads, and the first wake of a thread's word wakes"
          + " it, so the next wake waits for it to repair its 126 entries and re-arm: the wakes are"
          + " serialized behind those re-arms, and under load each is a scheduling delay (see the"
          + " blocking calls and context switches per operation the benchmark prints). Settling"
          + " once before and once after a wakeEach, not before each word, would remove all but"
          + " one. ringWakeEach (syscalls) is the same wakes without the queue.";
}
