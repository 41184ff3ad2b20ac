package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build tests this module on the module path, as a module-path user runs it: the module that
 * makes the downcalls, and so the one the README tells them to give native access, is
 * dev.ringlock.core (locks makes none), and the build's flags give it that access without naming a
 * module this JVM lacks (which would print "WARNING: Unknown module").
 */
class NativeAccessTest {
  @Test
  void downcallsAreMadeByTheModuleDevRinglockCoreAndItHasNativeAccess() {
    Module core = FutexRing.class.getModule();
    assertEquals("dev.ringlock.core", core.getName(), "these tests should run on the module path");
    assertTrue(core.isNativeAccessEnabled(), "--enable-native-access=dev.ringlock.core is missing");
    assertEquals("dev.ringlock.locks", Mutex.class.getModule().getName());
  }

  @Test
  void everyModuleGivenNativeAccessExists() {
    List<String> named =
        Stream.of(ProcessHandle.current().info().arguments().orElseThrow())
            .filter(argument -> argument.startsWith("--enable-native-access="))
            .flatMap(
                argument -> Stream.of(argument.substring(argument.indexOf('=') + 1).split(",")))
            .filter(module -> !module.equals("ALL-UNNAMED"))
            .toList();
    assertEquals(List.of("dev.ringlock.core"), named);
    assertTrue(ModuleLayer.boot().findModule("dev.ringlock.core").isPresent());
  }
}
