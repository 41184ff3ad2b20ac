package dev.ringlock.bench.xproc;

import dev.ringlock.locks.SharedRegion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The owner that OwnerDeathTakeover kills: prints {@code READY}, and on a {@code lock} line takes
 * the mutex, prints {@code HELD} and holds it until killed. Arguments: region file, mutex name.
 */
public final class TakeoverHolder {
  private TakeoverHolder() {}

  public static void main(String[] args) throws Exception {
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      var mutex = region.mutex(args[1]);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      System.out.println("READY");
      if ("lock".equals(in.readLine())) {
        var guard = mutex.lock().join();
        System.out.println("HELD " + guard.fence());
        Thread.sleep(Long.MAX_VALUE); // until killed
      }
    }
  }
}
