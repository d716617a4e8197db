"""``GaussianMixture``'s ``verbose`` output, in scikit-learn's words."""

from __future__ import annotations

from time import perf_counter


class Progress:
    """Prints the initialisations and iterations of one ``fit``.

    Parameters
    ----------
    verbose : int
        0 prints nothing; 1 the initialisations and every
        ``verbose_interval``-th iteration; 2 also timings and changes of the
        lower bound.
    verbose_interval : int
    """

    def __init__(self, verbose, verbose_interval):
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    def init_begin(self, init):
        if self.verbose >= 1:
            print(f"Initialization {init}")
            self._init_time = self._iter_time = perf_counter()

    def iter_end(self, n_iter, change):
        if self.verbose >= 1 and n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            else:
                now = perf_counter()
                print(
                    f"  Iteration {n_iter}\t time lapse {now - self._iter_time:.5f}s"
                    f"\t ll change {change:.5f}"
                )
                self._iter_time = now

    def init_end(self, lower_bound, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            elapsed = perf_counter() - self._init_time
            print(
                f"Initialization {message}. time lapse {elapsed:.5f}s\t "
                f"lower bound {lower_bound:.5f}."
            )
