package dev.ringlock.bench.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CI's check of the benchmark suite: the smoke mode (a few benchmarks, one short iteration each,
 * every kind of step: a JMH run, the C anchors when gcc is there, child-JVM loops, ping-pongs, lock
 * handoffs, fan-out, footprint and takeover) runs through and writes report.md, results.json and
 * charts, the contended loops with their acquire-latency columns, records and chart; the rows of
 * the futex-syscalls backend beside their io_uring rows, with its goals judged; and the read-write
 * mutex's uncontended read and 2-process read-mostly rows (issue 18), with theirs. The figures
 * themselves are not judged: they mean nothing at this length.
 */
class BenchmarkSuiteSmokeTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

  @Test
  void theSmokeRunWritesAReportWithGoalsTablesRawResultsAndCharts(@TempDir Path out)
      throws Exception {
    int status = BenchmarkSuite.run(SuiteMode.SMOKE, out, Path.of("/dev/shm"));

    List<Path> folders;
    try (var list = Files.list(out)) {
      folders = list.toList();
    }
    assertEquals(1, folders.size(), "one folder per run: " + folders);
    Path folder = folders.getFirst();
    assertTrue(
        folder.getFileName().toString().matches("\\d{4}-\\d{2}-\\d{2}-.+"),
        "named <date>-<hostname>: " + folder);
    String report = Files.readString(folder.resolve("report.md"));
    assertEquals(0, status, "a step failed:\n" + report);
    assertTrue(report.contains("## Goals"), report);
    assertTrue(
        report.contains("| Uncontended lock + unlock vs ReentrantLock | "),
        "the uncontended goal is judged:\n" + report);
    assertTrue(report.contains("| **ringlockLock** | "), report);
    assertTrue(report.contains("ringlock / reentrantLock"), report);
    assertTrue(report.contains("B/op (gc)"), "the gc profiler's column:\n" + report);
    assertTrue(report.contains("## 2 processes contending on one lock"), report);
    assertTrue(
        report.contains(
            "| | ns/op | acquire p50 (µs) | acquire p99 (µs) | acquire p99.9 (µs) | ringlock / "),
        "the loop table's acquire-latency columns:\n" + report);
    assertTrue(report.contains("## Handoff ping-pong between 2 processes"), report);
    assertTrue(report.contains("## Waking a waiter in each of 3 other processes"), report);
    assertTrue(report.contains("## Lock handoff between 2 processes"), report);
    assertTrue(report.contains("| Owner-death takeover p99 | "), report);
    // issue 18: the read-write mutex's uncontended read pair and the 2-process read-mostly loop
    assertTrue(
        report.contains("## Read-write lock, uncontended read + unlock, one thread"), report);
    assertTrue(report.contains("| **ringlockUncontendedRead** | "), report);
    assertTrue(report.contains("ringlock / reentrantUncontendedRead"), report);
    assertTrue(report.contains("## 2 processes on one read-write lock, 95 % reads"), report);
    assertTrue(report.contains("| **ringlock ReadWriteMutex** | "), report);
    assertTrue(
        report.matches(
            "(?s).*ringlock ReadWriteMutex: of the measured operations, [0-9.]+ % of"
                + " reads and [0-9.]+ % of writes waited in the queue .*; they waited [0-9.]+ ms on"
                + " average, [0-9.]+ ms at most.*"),
        "the queued operations' note:\n" + report);
    // the syscalls backend's rows, each beside its io_uring row and anchor, and their goals judged
    for (String row :
        List.of(
            "| **ringlockLock (syscalls)** | ",
            "| **queueWakeAll (syscalls)** | ",
            "| **ringWakeEach (syscalls)** | ",
            "| **ringlock ring, thread initiator, continuation responder (syscalls)** | ",
            "| **ringlock Mutex (syscalls)** | ")) {
      assertTrue(report.contains(row), "row " + row + " missing:\n" + report);
    }
    List<String> goals =
        new ArrayList<>(
            List.of(
                "Uncontended lock + unlock on the syscalls backend vs on io_uring (unchanged)",
                "wakeAll of 1024 waiters on the syscalls backend vs 1024 futex_wake syscalls",
                "Owner-death takeover p99 on the syscalls backend",
                "Uncontended read + unlock vs ReentrantReadWriteLock's read lock"));
    if (!report.contains("**Skipped:** C anchors")) { // those goals' anchors need gcc
      goals.add(
          "Cross-process handoff round trip on the syscalls backend vs C futex ping-pong,"
              + " continuation responder");
      goals.add("2-process contended loop on the syscalls backend vs robust pthread mutex");
      goals.add("2-process read-mostly loop vs process-shared pthread_rwlock");
      assertTrue(report.contains("| pthread_rwlock, shared (C) | "), report);
    }
    for (String goal : goals) {
      assertTrue(
          report.matches("(?s).*\\| " + Pattern.quote(goal) + " \\| [0-9].*"),
          "goal not judged: " + goal + "\n" + report);
    }
    assertTrue(report.contains("Backend AUTO picked: "), report);

    String json = Files.readString(folder.resolve("results.json"));
    assertTrue(json.startsWith("{\"suite\": {"), json);
    assertTrue(json.contains("\"primaryMetric\""), "JMH's raw JSON is in it");
    assertTrue(json.contains("\"table\": \"xproc-handoff\""), "harness records are in it");
    assertTrue(
        json.matches(
            "(?s).*\"table\": \"xproc-loop-2\", \"label\": \"ringlock Mutex\","
                + " \"ns_per_op\": [-0-9.E]+, \"ops_per_s\": [-0-9.E]+, \"acquire_mean_ns\": [-0-9.E]+,"
                + " \"acquire_p50_ns\": [0-9]+, \"acquire_p99_ns\": [0-9]+,"
                + " \"acquire_p999_ns\": [0-9]+.*"),
        "the loop records carry the acquire latency:\n" + json);
    assertTrue(json.contains("\"percentiles_of\": \"acquire\""), json);
    assertTrue(
        json.matches(
            "(?s).*\"table\": \"xproc-read-mostly-2\", \"label\": \"ringlock ReadWriteMutex\","
                + " \"ns_per_op\": [-0-9.E]+, \"ops_per_s_per_process\": [-0-9.E]+,"
                + " \"measured_ops_by_process\": \\[[0-9]+, [0-9]+\\],"
                + " \"queued_read_share\": [-0-9.E]+, \"queued_write_share\": [-0-9.E]+,"
                + " \"queued_mean_ns\": [-0-9.E]+, \"queued_max_ns\": [0-9]+.*"),
        "the read-mostly records:\n" + json);

    for (String chart :
        List.of(
            "ratios-uncontended.png",
            "ratios-xproc-loop-2.png",
            "latency-xproc-loop-2.png",
            "latency-xproc-handoff.png",
            "latency-xproc-lock-handoff.png",
            "latency-xproc-fanout-each.png")) {
      assertPng(folder.resolve(chart));
    }
  }

  private static void assertPng(Path file) throws IOException {
    assertTrue(Files.size(file) > 1000, file + " is too small for a chart");
    try (InputStream in = Files.newInputStream(file)) {
      assertArrayEquals(PNG_MAGIC, in.readNBytes(4), file + " is not a PNG");
    }
  }
}
