// Login page: filled in below.
