"""Push notifications: provider clients (FCM) and the embedded recorder."""
