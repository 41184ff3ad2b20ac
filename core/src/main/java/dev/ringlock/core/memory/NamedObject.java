package dev.ringlock.core.memory;

import java.util.Objects;

/**
 * An object in a {@link MappedRegion}: what its directory entry records.
 *
 * @param name its name, 1 to {@link MappedRegion#MAX_NAME_BYTES} bytes of UTF-8
 * @param type the creator's tag for what it is; never 0
 * @param offset where its bytes start, from the start of the region; a multiple of 64
 * @param length how many bytes its creator asked for
 */
public record NamedObject(String name, int type, long offset, long length) {
  public NamedObject {
    Objects.requireNonNull(name, "name");
  }
}
