package dev.ringlock.bench.suite;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The little JSON the suite writes itself: objects of strings, numbers, lists and raw JSON. */
final class Json {
  private Json() {}

  /** Already JSON text, written as it is (JMH's own output). */
  record Raw(String text) {}

  static String object(Map<String, ?> fields) {
    return value(fields);
  }

  /** A record as an object of its components, after a "table" field. */
  static String record(String table, Record record) {
    Map<String, Object> fields = new java.util.LinkedHashMap<>();
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

  static String value(Object value) {
    return switch (value) {
      case null -> "null";
      case Raw raw -> raw.text();
      case Double d -> Double.isFinite(d) ? Double.toString(d) : "null";
      case Float f -> Float.isFinite(f) ? Float.toString(f) : "null";
      case Number n -> n.toString();
      case Boolean b -> b.toString();
      case Map<?, ?> map ->
          map.entrySet().stream()
              .map(e -> string(e.getKey().toString()) + ": " + value(e.getValue()))
              .collect(Collectors.joining(", ", "{", "}"));
      case List<?> list ->
          list.stream().map(Json::value).collect(Collectors.joining(", ", "[", "]"));
      default -> string(value.toString());
    };
  }

  static String string(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
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
