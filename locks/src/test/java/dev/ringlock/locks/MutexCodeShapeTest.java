package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.locks.internal.MutexCore;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import org.junit.jupiter.api.Test;

/**
 * What keeps the uncontended lock() small enough for its callers to inline
 * (MutexCore.bargeAndDraw): the region's work stays out of line because its bytecode is larger than
 * the largest method C2 inlines into a hot call site. An edit that shrinks it below that lets C2
 * inline it into lock() again, and a caller compiled after lock() allocates the guard and its
 * future (56 bytes; MutexReleaseClaimTest measures that in a child JVM).
 */
class MutexCodeShapeTest {
  @Test
  void theUncontendedDrawIsTooLargeForC2ToInlineIntoLock() throws Exception {
    ClassModel mutexCore;
    try (InputStream bytes = MutexCore.class.getResourceAsStream("MutexCore.class")) {
      mutexCore = ClassFile.of().parse(bytes.readAllBytes());
    }
    MethodModel draw =
        mutexCore.methods().stream()
            .filter(m -> m.methodName().equalsString("bargeAndDraw"))
            .findFirst()
            .orElseThrow();
    int size = draw.findAttribute(Attributes.code()).orElseThrow().codeLength();
    assertTrue(
        size > MutexCore.C2_FREQ_INLINE_SIZE,
        "bargeAndDraw's bytecode is "
            + size
            + " bytes, not above C2's FreqInlineSize ("
            + MutexCore.C2_FREQ_INLINE_SIZE
            + "): C2 would inline it into lock()");
  }
}
