// Runs before the first paint (a classic, blocking script, so no flash of
// the wrong theme).  Dark is the default; app.js owns the toggle.
try {
  if (localStorage.getItem('tm.theme') === 'light')
    document.documentElement.dataset.theme = 'light';
} catch (e) { /* storage disabled: stay dark */ }
