package dev.ringlock.core.uring;

/**
 * The user_data codec: {@code kind:8 | generation:24 | index:32}. The index names a slot in the
 * caller's slot table, so a completion finds its request without a map or an allocation. The
 * generation changes each time a slot is reused, so a late ASYNC_CANCEL aimed at a finished request
 * can never match the request that took its slot.
 */
public final class UserData {
  private static final int KIND_SHIFT = 56;
  private static final int GENERATION_SHIFT = 32;

  /** Generations wrap within this mask. */
  public static final int GENERATION_MASK = 0xFF_FFFF;

  private UserData() {}

  public static long encode(int kind, int generation, int index) {
    return ((long) (kind & 0xFF) << KIND_SHIFT)
        | ((long) (generation & GENERATION_MASK) << GENERATION_SHIFT)
        | Integer.toUnsignedLong(index);
  }

  public static int kind(long userData) {
    return (int) (userData >>> KIND_SHIFT);
  }

  public static int generation(long userData) {
    return (int) (userData >>> GENERATION_SHIFT) & GENERATION_MASK;
  }

  public static int index(long userData) {
    return (int) userData;
  }
}
