package dev.ringlock.bench.build;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * This test JVM is launched the way the build launches every class-path test JVM (surefire's
 * argLine). A module named to {@code --enable-native-access} that the boot layer does not have
 * makes the JVM print "WARNING: Unknown module: ... specified to --enable-native-access" (the build
 * printed it for every class-path module while the flag named dev.ringlock.core there).
 */
class NativeAccessFlagTest {
  @Test
  void everyModuleGivenNativeAccessExistsSoTheJvmPrintsNoUnknownModuleWarning() {
    List<String> named =
        nativeAccessModules(ManagementFactory.getRuntimeMXBean().getInputArguments());
    assertFalse(named.isEmpty(), "the build gives this JVM no --enable-native-access");
    for (String module : named) {
      if (!module.equals("ALL-UNNAMED")) {
        assertTrue(
            ModuleLayer.boot().findModule(module).isPresent(),
            "--enable-native-access names " + module + ", which this JVM does not have");
      }
    }
  }

  @Test
  void theModuleThatMakesTheDowncallsHasNativeAccess() {
    Module downcalls = FutexRing.class.getModule();
    assertNull(downcalls.getName(), "on the class path, ringlock is in the unnamed module");
    assertTrue(downcalls.isNativeAccessEnabled());
  }

  private static List<String> nativeAccessModules(List<String> jvmArguments) {
    List<String> modules = new ArrayList<>();
    for (int i = 0; i < jvmArguments.size(); i++) {
      String argument = jvmArguments.get(i);
      String value = null;
      if (argument.startsWith("--enable-native-access=")) {
        value = argument.substring("--enable-native-access=".length());
      } else if (argument.equals("--enable-native-access") && i + 1 < jvmArguments.size()) {
        value = jvmArguments.get(++i);
      }
      if (value != null) {
        modules.addAll(List.of(value.split(",")));
      }
    }
    return modules;
  }
}
