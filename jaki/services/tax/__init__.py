"""Regional tax: PBB-P2 and PKB bills and their due-date reminders (Bapenda)."""
