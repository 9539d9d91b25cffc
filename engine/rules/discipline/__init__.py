"""Hall-discipline rules on camera, attendance and queue streams, with the floor state they own."""
