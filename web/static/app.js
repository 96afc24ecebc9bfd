// App shell: filled in below.
