package dev.ringlock.locks.internal;

/** The type tags of named objects in a region's directory. 0 is never a type. */
public final class ObjectType {
  public static final int MUTEX = 1;
  public static final int SEMAPHORE = 2;
  public static final int WAIT_QUEUE = 3;
  public static final int CONDITION = 4;
  public static final int READ_WRITE_MUTEX = 5;

  private ObjectType() {}

  public static String name(int type) {
    return switch (type) {
      case MUTEX -> "mutex";
      case SEMAPHORE -> "semaphore";
      case WAIT_QUEUE -> "wait queue";
      case CONDITION -> "condition variable";
      case READ_WRITE_MUTEX -> "read-write mutex";
      default -> "type " + type;
    };
  }
}
