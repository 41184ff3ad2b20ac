package dev.ringlock.testsupport;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/** A child JVM for ChildTest: calls pidfd_open on itself and prints "ERRNO" and the errno, or 0. */
public final class PidfdOpenChild {
  private PidfdOpenChild() {}

  public static void main(String[] args) throws Throwable {
    Linker linker = Linker.nativeLinker();
    StructLayout callState = Linker.Option.captureStateLayout();
    VarHandle errno =
        callState.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    MethodHandle syscall =
        linker.downcallHandle(
            linker.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      long fd =
          (long)
              syscall.invokeExact(
                  state, (long) SeccompFilter.SYS_PIDFD_OPEN, ProcessHandle.current().pid(), 0L);
      System.out.println("ERRNO " + (fd >= 0 ? 0 : (int) errno.get(state, 0L)));
    }
  }
}
