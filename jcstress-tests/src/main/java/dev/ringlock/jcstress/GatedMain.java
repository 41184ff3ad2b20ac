package dev.ringlock.jcstress;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexRing.Backend;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Main;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.ReportUtils;

/**
 * The entry point of jcstress.jar: runs jcstress as its own Main does, then exits 1 unless every
 * selected test ran, produced samples and passed.
 *
 * <p>jcstress 0.16 fails a run only by throwing an AssertionError out of main (its
 * ExceptionReportPrinter), for a FORBIDDEN outcome or a test, VM, or timeout error. It exits 0 when
 * no test matches the selection, when no VM configuration works, when a test cannot be scheduled on
 * the CPUs given ({@code -c}), on API_MISMATCH, and for a test that ran zero times: {@code -m
 * sanity} sets {@code -time 0}, which runs a Termination test not at all. A test that did not run
 * proved nothing, so each of those fails here too. The verdict comes from jcstress's own grading of
 * its result blob, not from scraping its console output, and fork by fork: jcstress's merged report
 * can show a test as passed although one of its forks timed out.
 *
 * <p>Run with {@code -Dringlock.backend=io_uring} or {@code =syscalls} (jcstress passes this VM's
 * arguments on to every fork), it also fails every fork whose ring ran on another backend: each
 * fork prints its ring's {@link FutexRing#backend()} to stderr ({@link SharedRing#BACKEND_REPORT}),
 * which jcstress keeps with the fork's result. So a CI execution meant for one backend cannot pass
 * on the other unnoticed. It prints how many forks ran on each backend either way.
 *
 * <p>It adds one mode, {@code -m ci}: jcstress's {@code quick} preset (200 ms per iteration) with
 * {@value #CI_ITERATIONS} iterations instead of 5, {@value #CI_STRIDE_COUNT} strides of 256
 * instances per epoch instead of 40, and no heap pre-touch, so that CI can run every test on both
 * backends in about the time one backend took in {@code quick} mode. Per fork, {@code quick} spent
 * most of its time outside the iterations: pre-touching the 256 MB heap costs a JVM start about a
 * second of CPU on this VM, and before its iterations a fork sizes its epoch by running 5 trial
 * epochs at every size from 1 instance up to strideSize x strideCount, each size 1.2 times the
 * last, until a trial exceeds the iteration time: up to 30 iteration times (6 s) for tests whose
 * 10,240 instances wait in the kernel, against trial epochs of at most 512 instances here. Neither
 * pre-touch (it steadies timing) nor the epoch length (the race each instance plays is the same)
 * changes what a test checks; fewer iterations take fewer samples, and the two backends together
 * still sample each test and VM configuration for 1.2 s where {@code quick} on one backend took 1
 * s. An option given explicitly wins over the mode's value, and the other modes ({@code quick},
 * {@code default}, {@code tough}, ...) are jcstress's own, unchanged.
 */
public final class GatedMain {
  /** The iterations per fork in {@code -m ci}. */
  static final int CI_ITERATIONS = 3;

  /** The strides per epoch in {@code -m ci}. */
  static final int CI_STRIDE_COUNT = 2;

  private GatedMain() {}

  public static void main(String[] givenArgs) throws Exception {
    String[] args = withCiMode(givenArgs);
    Options options = new Options(args);
    if (!options.parse()) {
      System.exit(1); // parse() has printed the error, or the help
    }
    if (options.shouldList() || options.shouldParse()) {
      Main.main(args); // runs no tests, so there is nothing to gate
      return;
    }
    JCStress jcstress = new JCStress(options);
    SortedSet<String> selected = jcstress.getTests();
    AssertionError jcstressVerdict = null;
    try {
      jcstress.run();
    } catch (AssertionError failures) {
      jcstressVerdict = failures; // thrown after the reports are written; ours follows
    }

    List<String> problems = problems(selected, options.getResultFile());
    if (jcstressVerdict != null && problems.isEmpty()) {
      problems.add("jcstress reported: " + jcstressVerdict.getMessage());
    }
    if (problems.isEmpty()) {
      System.out.println("ringlock jcstress gate: all " + selected.size() + " tests passed");
      System.exit(0);
    }
    System.out.println("ringlock jcstress gate: FAILED");
    for (String problem : problems) {
      System.out.println("  " + problem);
    }
    System.exit(1);
  }

  /**
   * {@code args} with {@code -m ci} replaced by {@code -m quick} and the CI values of the options
   * the caller did not give; other arguments unchanged.
   */
  static String[] withCiMode(String[] args) {
    List<String> expanded = new ArrayList<>(List.of(args));
    int mode = expanded.indexOf("-m");
    if (mode < 0 || mode + 1 >= expanded.size() || !expanded.get(mode + 1).equals("ci")) {
      return args;
    }
    expanded.set(mode + 1, "quick");
    addUnlessGiven(expanded, "-iters", Integer.toString(CI_ITERATIONS));
    addUnlessGiven(expanded, "-strideCount", Integer.toString(CI_STRIDE_COUNT));
    addUnlessGiven(expanded, "-pth", "false");
    return expanded.toArray(String[]::new);
  }

  private static void addUnlessGiven(List<String> args, String option, String value) {
    if (!args.contains(option)) {
      args.add(option);
      args.add(value);
    }
  }

  private static List<String> problems(SortedSet<String> selected, String resultFile)
      throws Exception {
    List<String> problems = new ArrayList<>();
    if (selected.isEmpty()) {
      problems.add("no test matches the selection");
      return problems;
    }
    if (!new File(resultFile).isFile()) {
      problems.add("jcstress wrote no results (" + resultFile + "); see its output above");
      return problems;
    }
    InProcessCollector collector = new InProcessCollector();
    DiskReadCollector reader = new DiskReadCollector(resultFile, collector);
    try {
      reader.dump();
    } finally {
      reader.close();
    }
    // Per fork first: merging keeps one status for all forks of a test, so a fork that hung
    // (TIMEOUT_ERROR) next to forks that passed would otherwise pass the gate. A hang is a lost
    // wake-up, the very failure these tests look for.
    Backend wanted = Backend.fromProperty(System.getProperty(FutexRing.BACKEND_PROPERTY));
    Map<String, Integer> forksPerBackend = new TreeMap<>();
    for (TestResult fork : collector.getTestResults()) {
      if (fork.status() != Status.NORMAL) {
        problems.add(fork.getName() + ": " + fork.status() + " " + fork.getMessages());
        continue; // a fork that failed early may not have opened its ring
      }
      String backend = backendOf(fork);
      forksPerBackend.merge(backend, 1, Integer::sum);
      if (wanted != Backend.AUTO && !backend.equals(wanted.name())) {
        problems.add(
            fork.getName()
                + " "
                + fork.getConfig().jvmArgs
                + ": its ring ran on "
                + backend
                + ", not on "
                + wanted
                + " as -D"
                + FutexRing.BACKEND_PROPERTY
                + " asks");
      }
    }
    System.out.println("ringlock jcstress gate: forks per ring backend " + forksPerBackend);
    Map<String, TestResult> byName = new HashMap<>();
    for (TestResult merged : ReportUtils.mergedByName(collector.getTestResults())) {
      byName.put(merged.getName(), merged); // every fork and VM configuration of a test, merged
    }
    for (String test : selected) {
      TestResult result = byName.get(test);
      if (result == null) {
        problems.add(test + ": did not run");
      } else if (result.status() != Status.NORMAL) {
        continue; // reported per fork above
      } else if (!result.grading().isPassed) {
        problems.add(test + ": " + result.grading().failureMessages);
      } else if (result.getTotalCount() == 0) {
        problems.add(
            test
                + ": no samples; the mode is too short to run it (-m sanity runs"
                + " Termination tests zero times)");
      }
    }
    return problems;
  }

  /** The backend a fork reported on its stderr, or "unreported". */
  private static String backendOf(TestResult fork) {
    for (String line : fork.getVmErr()) {
      int at = line.indexOf(SharedRing.BACKEND_REPORT);
      if (at >= 0) {
        return line.substring(at + SharedRing.BACKEND_REPORT.length()).trim();
      }
    }
    return "unreported";
  }
}
