package dev.ringlock.jcstress;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
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
 */
public final class GatedMain {
  private GatedMain() {}

  public static void main(String[] args) throws Exception {
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
    for (TestResult fork : collector.getTestResults()) {
      if (fork.status() != Status.NORMAL) {
        problems.add(fork.getName() + ": " + fork.status() + " " + fork.getMessages());
      }
    }
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
}
