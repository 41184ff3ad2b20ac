package dev.ringlock.core.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Writes little-endian fields straight into a closed region file, to damage it for tests. */
final class RegionFileEditor {
  private RegionFileEditor() {}

  static void putInt(Path file, long offset, int value) throws IOException {
    write(file, offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value));
  }

  static void putLong(Path file, long offset, long value) throws IOException {
    write(file, offset, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value));
  }

  static void putBytes(Path file, long offset, byte[] bytes) throws IOException {
    write(file, offset, ByteBuffer.wrap(bytes));
  }

  static void truncate(Path file, long bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(bytes);
    }
  }

  static long entryOffset(int index) {
    return RegionDescriptor.DIRECTORY_OFFSET + (long) index * RegionDescriptor.ENTRY_BYTES;
  }

  private static void write(Path file, long offset, ByteBuffer bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      while (bytes.hasRemaining()) {
        channel.write(bytes, offset + bytes.position());
      }
    }
  }
}
