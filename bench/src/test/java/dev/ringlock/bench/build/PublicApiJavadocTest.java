package dev.ringlock.bench.build;

import static dev.ringlock.bench.build.ProjectFiles.root;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public type and member of the exported packages has a comment, and every parameter, result
 * and declared checked exception of it a tag. The javadoc jars are built with doclint's "missing"
 * group off (the library's internal packages are not held to it), so this runs javadoc on the
 * exported packages with it on and fails on every warning of that group a user of the API would
 * meet: "no comment", "no main description", "no @param for", "no @return", "no @throws for".
 */
class PublicApiJavadocTest {
  private static final List<String> EXPORTED_PACKAGES =
      List.of("core/src/main/java/dev/ringlock/core", "locks/src/main/java/dev/ringlock/locks");
  private static final List<String> NOT_ALLOWED =
      List.of("no comment", "no main description", "no @param for", "no @return", "no @throws for");

  @TempDir Path output;

  @Test
  void everyPublicTypeAndMemberOfTheExportedPackagesHasACommentAndItsTags() throws Exception {
    DocumentationTool javadoc = ToolProvider.getSystemDocumentationTool();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files = javadoc.getStandardFileManager(diagnostics, null, null)) {
      List<String> options =
          List.of(
              "-Xdoclint:all",
              "-Xmaxwarns",
              "100000",
              "-quiet",
              "-d",
              output.toString(),
              "-classpath",
              System.getProperty("java.class.path"));
      StringWriter log = new StringWriter();
      boolean ran =
          javadoc
              .getTask(
                  log,
                  files,
                  diagnostics,
                  null,
                  options,
                  files.getJavaFileObjectsFromPaths(sources()))
              .call();
      assertTrue(ran, () -> log + "\n" + diagnostics.getDiagnostics());
    }
    List<String> undocumented = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.WARNING
          && NOT_ALLOWED.stream().anyMatch(d.getMessage(Locale.ROOT)::startsWith)) {
        undocumented.add(
            "%s:%d: %s"
                .formatted(
                    root().relativize(Path.of(d.getSource().toUri())),
                    d.getLineNumber(),
                    d.getMessage(Locale.ROOT)));
      }
    }
    undocumented.sort(null);
    assertEquals(List.of(), undocumented, String.join("\n", undocumented));
  }

  /** The exported packages' own source files (their subpackages are not public API). */
  private static List<Path> sources() throws IOException {
    List<Path> sources = new ArrayList<>();
    for (String dir : EXPORTED_PACKAGES) {
      try (Stream<Path> files = Files.list(root().resolve(dir))) {
        files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(sources::add);
      }
    }
    assertTrue(sources.size() > 20, sources.toString());
    return sources;
  }
}
