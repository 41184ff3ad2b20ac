package dev.ringlock.bench.cli;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes maps, lists, strings, numbers, booleans, nulls and {@link Raw} JSON text as JSON (RFC
 * 8259), on one line: the inspect tool's {@code --json} output and the benchmark suite's
 * results.json. Small enough not to pull a JSON library into the jar. Non-finite numbers, which
 * JSON cannot express, are written as null; any other object as the string of its toString.
 */
public final class Json {
  private Json() {}

  /** Already JSON text, written as it is (JMH's own output). */
  public record Raw(String text) {}

  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  private static void write(Object value, StringBuilder out) {
    switch (value) {
      case null -> out.append("null");
      case Raw raw -> out.append(raw.text());
      case String text -> string(text, out);
      case Boolean bool -> out.append(bool);
      case Double number -> out.append(Double.isFinite(number) ? number.toString() : "null");
      case Float number -> out.append(Float.isFinite(number) ? number.toString() : "null");
      case Number number -> out.append(number);
      case Map<?, ?> map -> {
        out.append('{');
        Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
        while (entries.hasNext()) {
          Map.Entry<?, ?> entry = entries.next();
          string(entry.getKey().toString(), out);
          out.append(": ");
          write(entry.getValue(), out);
          if (entries.hasNext()) {
            out.append(", ");
          }
        }
        out.append('}');
      }
      case List<?> list -> {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.append(", ");
          }
          write(list.get(i), out);
        }
        out.append(']');
      }
      default -> string(value.toString(), out);
    }
  }

  private static void string(String text, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u%04x".formatted((int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
