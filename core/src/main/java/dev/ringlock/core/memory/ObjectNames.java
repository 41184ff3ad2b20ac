package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_NAME_BYTES;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Object names as they are stored: 1 to {@link RegionDescriptor#MAX_NAME_BYTES} bytes of UTF-8.
 * Both directions REPORT malformed input: String.getBytes would silently turn an unpaired surrogate
 * into '?', so two different names could share one object.
 */
final class ObjectNames {
  private ObjectNames() {}

  /**
   * The UTF-8 bytes of {@code name}.
   *
   * @throws NullPointerException if name is null
   * @throws IllegalArgumentException if it is empty, longer than 96 bytes, or not valid UTF-16
   */
  static byte[] encode(String name) {
    Objects.requireNonNull(name, "name");
    ByteBuffer encoded;
    try {
      // Encoders keep state, so each call takes a fresh one; names are encoded once per lookup.
      encoded =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(name));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "object name '"
              + name
              + "' cannot be encoded as UTF-8 (it holds an unpaired surrogate); a name must be"
              + " 1 to "
              + MAX_NAME_BYTES
              + " bytes of UTF-8",
          e);
    }
    int length = encoded.remaining();
    if (length == 0 || length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException(
          "object name '"
              + name
              + "' is "
              + length
              + " bytes of UTF-8; a name must be 1 to "
              + MAX_NAME_BYTES
              + " bytes");
    }
    byte[] utf8 = new byte[length];
    encoded.get(utf8);
    return utf8;
  }

  /**
   * The name stored as {@code utf8}, or null if those bytes are not valid UTF-8 (which the caller
   * reports as corruption).
   */
  static String decodeOrNull(byte[] utf8) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(utf8))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
