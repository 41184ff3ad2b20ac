/**
 * The cross-process benchmark: ringlock against the peers that do not live in one JVM.
 *
 * <p>{@link dev.ringlock.bench.xproc.CrossProcessBench} drives everything: it compiles the C
 * anchors ({@code bench/src/main/c/mutex_loop.c}, {@code futex_pingpong.c}) with the system gcc
 * into {@code bench/target/c/}, starts pairs of child processes (C, or JVMs running {@link
 * dev.ringlock.bench.xproc.LoopChild} and {@link dev.ringlock.bench.xproc.PingPongChild}), and
 * prints a table of medians over interleaved rounds with the ratios against the project's goals:
 *
 * <ul>
 *   <li>contended loop, 2 processes, ns per critical section: C pthread mutex robust and plain,
 *       FileChannel.lock, a spin-CAS word, the ringlock Mutex; beside it the acquire latency (p50,
 *       p99, p99.9) of every 64th acquisition, a uniform sample kept by {@code LatencyReservoir};
 *   <li>handoff round trip, 2 processes: C futex syscalls, and ringlock's ring with a thread or a
 *       continuation as responder (mean, p50, p99, p99.9).
 * </ul>
 *
 * <p>{@link dev.ringlock.bench.xproc.OwnerDeathTakeover} measures the time from SIGKILL of a mutex
 * owner ({@link dev.ringlock.bench.xproc.TakeoverHolder}) to a waiter's takeover, p50/p99 over 100
 * kills ({@code java ... dev.ringlock.bench.xproc.OwnerDeathTakeover [kills] [directory]}).
 *
 * <p>Run from the repository root, on a quiet machine (about 80 seconds; {@code --quick}: under 30
 * seconds):
 *
 * <pre>
 * export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=$JAVA_HOME/bin:$PATH
 * mvn -q -B -DskipTests package -pl bench -am
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.ringlock.bench.xproc.CrossProcessBench [--quick] [--rounds N] [--dir /dev/shm]
 * </pre>
 */
package dev.ringlock.bench.xproc;
