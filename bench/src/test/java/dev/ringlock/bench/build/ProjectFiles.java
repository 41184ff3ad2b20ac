package dev.ringlock.bench.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The repository's own files as the build tests read them: the root (found from the working
 * directory, which surefire sets to this module's folder) and its POMs, parsed with the JDK's XML
 * parser rather than Maven's model so that the tests check what is written.
 */
final class ProjectFiles {
  private ProjectFiles() {}

  /** The repository root: the nearest folder up whose pom.xml is ringlock-parent's. */
  static Path root() throws IOException {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path pom = dir.resolve("pom.xml");
      if (Files.isRegularFile(pom) && isParentPom(Files.readString(pom))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no ringlock-parent pom.xml above " + Path.of("").toAbsolutePath());
  }

  private static boolean isParentPom(String pom) {
    return pom.contains("<artifactId>ringlock-parent</artifactId>") && !pom.contains("<parent>");
  }

  /** The {@code <project>} element of {@code module}'s pom.xml ("" for the root). */
  static Element pom(String module) throws Exception {
    Path file = root().resolve(module).resolve("pom.xml");
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
  }

  /** The text of the element at {@code path} (child names separated by '/'), or null. */
  static String text(Element from, String path) {
    List<Element> found = elements(from, path);
    return found.isEmpty() ? null : found.getFirst().getTextContent().strip();
  }

  /** Every element at {@code path} under {@code from}. */
  static List<Element> elements(Element from, String path) {
    List<Element> level = List.of(from);
    for (String name : path.split("/")) {
      List<Element> next = new ArrayList<>();
      for (Element parent : level) {
        for (Node child = parent.getFirstChild(); child != null; child = child.getNextSibling()) {
          if (child instanceof Element element && element.getTagName().equals(name)) {
            next.add(element);
          }
        }
      }
      level = next;
    }
    return level;
  }
}
