package dev.ringlock.bench.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The jars a user of the library gets: each library jar with its -sources and -javadoc jar beside
 * it, and the modules' javadoc linked. Runs in bench's integration-test phase (its own surefire
 * execution), when the class path holds the packaged jars of core and locks: from the reactor in
 * {@code mvn verify}, or from the local repository, where install put the same three jars.
 */
@Tag("published-artifacts")
class PublishedArtifactsTest {
  @Test
  void coreAndLocksComeWithSourcesAndJavadocJars() throws Exception {
    Path core = jarOf(FutexRing.class);
    Path locks = jarOf(Mutex.class);
    try (JarFile sources = new JarFile(sibling(core, "sources").toFile())) {
      assertNotNull(sources.getEntry("dev/ringlock/core/FutexRing.java"));
      assertNotNull(sources.getEntry("module-info.java"));
    }
    try (JarFile sources = new JarFile(sibling(locks, "sources").toFile())) {
      assertNotNull(sources.getEntry("dev/ringlock/locks/Mutex.java"));
    }
    try (JarFile javadoc = new JarFile(sibling(core, "javadoc").toFile())) {
      assertEquals("module:dev.ringlock.core\ndev.ringlock.core", read(javadoc, "element-list"));
      assertNotNull(javadoc.getEntry("dev.ringlock.core/dev/ringlock/core/FutexRing.html"));
      assertNotNull(javadoc.getEntry("dev.ringlock.core/module-summary.html"));
    }
    try (JarFile javadoc = new JarFile(sibling(locks, "javadoc").toFile())) {
      assertEquals("module:dev.ringlock.locks\ndev.ringlock.locks", read(javadoc, "element-list"));
      assertNotNull(javadoc.getEntry("dev.ringlock.locks/dev/ringlock/locks/Mutex.html"));
    }
  }

  @Test
  void locksJavadocLinksTheCoreTypesInItsSignaturesToCoresJavadoc() throws Exception {
    Path locks = jarOf(Mutex.class);
    String version = versionOf(locks);
    try (JarFile javadoc = new JarFile(sibling(locks, "javadoc").toFile())) {
      String sharedRegion =
          read(javadoc, "dev.ringlock.locks/dev/ringlock/locks/SharedRegion.html");
      String link =
          "href=\"https://javadoc.io/doc/dev.ringlock/ringlock-core/"
              + version
              + "/dev.ringlock.core/dev/ringlock/core/FutexRing.html\"";
      assertTrue(sharedRegion.contains(link), "SharedRegion.ring() does not link " + link);
      // ...and the JDK's own types to the JDK's javadoc
      String mutex = read(javadoc, "dev.ringlock.locks/dev/ringlock/locks/Mutex.html");
      assertTrue(
          mutex.contains("/java.base/java/util/concurrent/CompletableFuture.html\""),
          "Mutex.lock() does not link CompletableFuture");
    }
  }

  /** The jar {@code type} was loaded from. */
  private static Path jarOf(Class<?> type) throws URISyntaxException {
    Path location = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertTrue(
        Files.isRegularFile(location) && location.toString().endsWith(".jar"),
        type.getName()
            + " was loaded from "
            + location
            + ", not a packaged jar: this test runs in bench's integration-test phase"
            + " (mvn verify), after core and locks are packaged");
    return location;
  }

  /** ringlock-core-0.1.0.jar's {@code classifier} jar: ringlock-core-0.1.0-sources.jar. */
  private static Path sibling(Path jar, String classifier) {
    String name = jar.getFileName().toString();
    Path sibling =
        jar.resolveSibling(
            name.substring(0, name.length() - ".jar".length()) + "-" + classifier + ".jar");
    assertTrue(Files.isRegularFile(sibling), "no " + sibling + " beside " + jar);
    return sibling;
  }

  /** The version in ringlock-locks-VERSION.jar. */
  private static String versionOf(Path jar) {
    String name = jar.getFileName().toString();
    String version = name.substring("ringlock-locks-".length(), name.length() - ".jar".length());
    assertFalse(version.isEmpty(), name);
    return version;
  }

  private static String read(JarFile jar, String entry) throws IOException {
    assertNotNull(jar.getEntry(entry), jar.getName() + " has no " + entry);
    try (InputStream in = jar.getInputStream(jar.getEntry(entry))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
  }
}
