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

  /** {@code samples[from..]} as the value of a {@code samples=} field: comma-separated. */
  static String samples(long[] samples, int from) {
    StringBuilder text = new StringBuilder();
    for (int i = from; i < samples.length; i++) {
      text.append(i > from ? "," : "").append(samples[i]);
    }
    return text.toString();
  }

  /**
   * The {@code samples=} field of a result line.
   *
   * @throws IllegalStateException if it does not hold {@code expected} numbers
   */
  static long[] samples(Map<String, String> fields, int expected) {
    String list = field(fields, "samples");
    long[] samples =
        list.isEmpty()
            ? new long[0]
            : java.util.Arrays.stream(list.split(",")).mapToLong(Long::parseLong).toArray();
    if (samples.length != expected) {
      throw new IllegalStateException(
          "a child reported " + samples.length + " samples, expected " + expected);
    }
    return samples;
  }

  static String field(Map<String, String> fields, String key) {
    String value = fields.get(key);
    if (value == null) {
      throw new IllegalStateException("result line has no " + key + ": " + fields);
    }
    return value;
  }
}
