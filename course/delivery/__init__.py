"""Layer 5, delivery: the `course` command (`cli`), the benchmark (`bench`), the environment
files (`environment`) and the workshop kit (`workshop`: tracks and agendas, the site, the
offline bundle, the hub's environment). Nothing below imports from here."""
