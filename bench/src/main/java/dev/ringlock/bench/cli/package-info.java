/**
 * The {@code ringlock} command line, {@code bench/target/ringlock.jar}: {@link
 * dev.ringlock.bench.cli.Ringlock} with the subcommands {@code demo} ({@link
 * dev.ringlock.bench.cli.DemoCommand}: worker JVMs contending on one region file, with owner-death
 * recovery on request) and {@code inspect} ({@link dev.ringlock.bench.cli.InspectCommand}: every
 * object of a region file, read through a read-only mapping).
 *
 * <pre>
 * mvn -B -ntp -q -DskipTests package -pl bench -am
 * java --enable-native-access=ALL-UNNAMED -jar bench/target/ringlock.jar demo [--kill-one]
 * java --enable-native-access=ALL-UNNAMED -jar bench/target/ringlock.jar inspect /dev/shm/x.region
 * </pre>
 *
 * <p>The library modules do not depend on this package or on picocli.
 */
package dev.ringlock.bench.cli;
