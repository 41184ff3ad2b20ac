package dev.ringlock.bench.xproc;

import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code RESULT word... key=value...} lines every child, C or Java, prints last. */
final class ResultLine {
  static final String PREFIX = "RESULT ";

  private ResultLine() {}

  /** The {@code key=value} fields of a result line; bare words are skipped. */
  static Map<String, String> fields(String line) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String token : line.trim().split("\\s+")) {
      int equals = token.indexOf('=');
      if (equals > 0) {
        fields.put(token.substring(0, equals), token.substring(equals + 1));
      }
    }
    return fields;
  }

  static String field(Map<String, String> fields, String key) {
    String value = fields.get(key);
    if (value == null) {
      throw new IllegalStateException("result line has no " + key + ": " + fields);
    }
    return value;
  }
}
