package dev.ringlock.locks.internal;

/** The type tags of named objects in a region's directory. 0 is never a type. */
public final class ObjectType {
  public static final int MUTEX = 1;
  public static final int SEMAPHORE = 2;

  private ObjectType() {}

  public static String name(int type) {
    return switch (type) {
      case MUTEX -> "mutex";
      case SEMAPHORE -> "semaphore";
      default -> "type " + type;
    };
  }
}
