"""Web Push subscriptions and delivery."""
