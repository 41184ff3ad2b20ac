/**
 * JMH benchmarks of ringlock's futex paths against direct futex system calls.
 *
 * <ul>
 *   <li>{@link dev.ringlock.bench.DirectPingPongBenchmark} and {@link
 *       dev.ringlock.bench.RingPingPongBenchmark}: wake round-trip latency between two sides, with
 *       direct syscalls, through the ring with a blocked responder thread, and through the ring
 *       with a continuation as responder; doorbell and setup flags as parameters.
 *   <li>{@link dev.ringlock.bench.WakeBatchBenchmark}: N wakes as N syscalls versus one ring batch.
 * </ul>
 *
 * <p>Build and run one class at a time (the machine has two cores; wake-ups dominate):
 *
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -DskipTests -Djcstress.skip=true package -pl bench -am
 * java --enable-native-access=ALL-UNNAMED -jar bench/target/benchmarks.jar WakeBatchBenchmark \
 *     -rf json -rff /tmp/wake-batch.json
 * </pre>
 *
 * <p>The ring benchmarks print io_uring_enter calls, SQEs and doorbell wake-ups per operation when
 * their trial ends, from {@link dev.ringlock.core.FutexRing#stats()}.
 */
package dev.ringlock.bench;
