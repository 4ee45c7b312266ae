"""The protocol server: auth, endpoints and levels, the session limit, subscriptions and fan-out, shared by the simulator, the relay and replays."""
