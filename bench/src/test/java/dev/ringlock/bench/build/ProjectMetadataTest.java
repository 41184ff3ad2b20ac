package dev.ringlock.bench.build;

import static dev.ringlock.bench.build.ProjectFiles.elements;
import static dev.ringlock.bench.build.ProjectFiles.pom;
import static dev.ringlock.bench.build.ProjectFiles.root;
import static dev.ringlock.bench.build.ProjectFiles.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/** What a user of the library reads before depending on it: licence, changelog, POM metadata. */
class ProjectMetadataTest {
  private static final List<String> LIBRARY = List.of("core", "locks");
  private static final List<String> NOT_PUBLISHED =
      List.of("bench", "jcstress-tests", "test-support");

  @Test
  void theLicenceIsTheApacheLicence2() throws Exception {
    String licence = Files.readString(root().resolve("LICENSE"));
    assertTrue(
        licence.strip().startsWith("Apache License\n"), licence.lines().findFirst().orElse(""));
    assertTrue(licence.contains("Version 2.0, January 2004"));
    assertTrue(licence.contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"));
    assertTrue(licence.contains("END OF TERMS AND CONDITIONS"));
  }

  @Test
  void theChangelogHasAnEntryForThisVersion() throws Exception {
    String changelog = Files.readString(root().resolve("CHANGELOG.md"));
    String version = text(pom(""), "version").replace("-SNAPSHOT", "");
    assertTrue(changelog.startsWith("# Changelog"), changelog);
    assertTrue(changelog.contains("keepachangelog.com"), "say which format it follows");
    assertTrue(changelog.contains("\n## [" + version + "] - "), "no entry for " + version);
    assertTrue(changelog.contains("\n### Added\n"), changelog);
  }

  @Test
  void everyPublishedPomCarriesNameDescriptionUrlLicenceScmAndDevelopers() throws Exception {
    Element parent = pom("");
    assertTrue(text(parent, "url").startsWith("https://"), text(parent, "url"));
    assertEquals("Apache License, Version 2.0", text(parent, "licenses/license/name"));
    assertEquals(
        "https://www.apache.org/licenses/LICENSE-2.0.txt", text(parent, "licenses/license/url"));
    assertTrue(text(parent, "scm/url").startsWith("https://"));
    assertTrue(text(parent, "scm/connection").startsWith("scm:git:"));
    assertTrue(text(parent, "scm/developerConnection").startsWith("scm:git:"));
    assertFalse(elements(parent, "developers/developer").isEmpty());
    assertNotNull(text(parent, "developers/developer/name"));
    // The modules inherit these; the url and scm keep the parent's value instead of gaining the
    // module's artifactId as a path (Maven's default, which would name pages that do not exist).
    assertEquals("false", parent.getAttribute("child.project.url.inherit.append.path"));
    Element scm = elements(parent, "scm").getFirst();
    for (String part : List.of("connection", "developerConnection", "url")) {
      assertEquals("false", scm.getAttribute("child.scm." + part + ".inherit.append.path"), part);
    }
    for (String module : LIBRARY) {
      Element pom = pom(module);
      assertNotNull(text(pom, "name"), module);
      assertTrue(text(pom, "description").length() > 20, module + ": a description of its own");
      assertNull(text(pom, "url"), module + " must inherit the url");
    }
  }

  @Test
  void installingTheLibraryLeavesOutTheBenchmarksAndJcstressTests() throws Exception {
    for (String module : NOT_PUBLISHED) {
      assertEquals("true", text(pom(module), "properties/maven.install.skip"), module);
      assertEquals("true", text(pom(module), "properties/maven.deploy.skip"), module);
    }
    for (String module : List.of("", "core", "locks")) {
      assertNull(text(pom(module), "properties/maven.install.skip"), "'" + module + "'");
      assertNull(text(pom(module), "properties/maven.deploy.skip"), "'" + module + "'");
    }
  }

  @Test
  void theReadmeGivesTheCoordinatesAnInstallCommandAndTheNativeAccessModule() throws Exception {
    String readme = Files.readString(root().resolve("README.md"));
    String dependOnIt = readme.substring(readme.indexOf("## Depend on it"));
    dependOnIt = dependOnIt.substring(0, dependOnIt.indexOf("\n## ", 3));
    assertTrue(dependOnIt.contains("<groupId>" + text(pom(""), "groupId") + "</groupId>"));
    assertTrue(
        dependOnIt.contains("<artifactId>" + text(pom("locks"), "artifactId") + "</artifactId>"));
    assertTrue(dependOnIt.contains("<version>" + text(pom(""), "version") + "</version>"));
    assertTrue(dependOnIt.contains("-DskipTests install -pl locks -am"), dependOnIt);
    // The module that makes the downcalls, as core's module-info names it.
    String coreModule = Files.readString(root().resolve("core/src/main/java/module-info.java"));
    assertTrue(coreModule.contains("module dev.ringlock.core {"));
    assertTrue(readme.contains("--enable-native-access=dev.ringlock.core"), "module-path users");
    assertTrue(readme.contains("--enable-native-access=ALL-UNNAMED"), "class-path users");
  }
}
