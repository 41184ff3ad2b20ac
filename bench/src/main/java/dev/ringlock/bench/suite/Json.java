package dev.ringlock.bench.suite;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** What the suite adds to the JSON writer it shares with the inspect tool (cli.Json). */
final class Json {
  private Json() {}

  static String object(Map<String, ?> fields) {
    return dev.ringlock.bench.cli.Json.write(fields);
  }

  /** A record as an object of its components, after a "table" field. */
  static String record(String table, Record record) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("table", table);
    for (var component : record.getClass().getRecordComponents()) {
      try {
        fields.put(component.getName(), component.getAccessor().invoke(record));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + component, e);
      }
    }
    return object(fields);
  }

  /** The elements of JMH result files (each a JSON array), as one array. */
  static String concatArrays(List<String> arrays) {
    return arrays.stream()
        .map(String::strip)
        .map(a -> a.substring(1, a.length() - 1).strip()) // JMH writes "[ ... ]"
        .filter(a -> !a.isEmpty())
        .collect(Collectors.joining(",\n", "[\n", "\n]"));
  }
}
