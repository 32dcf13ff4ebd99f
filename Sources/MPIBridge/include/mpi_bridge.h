/* Open MPI for data-parallel training, loaded at run time: resnetc links no MPI library, so the
 * same binary runs single-process on a machine without Open MPI and data-parallel under mpirun.
 * Only what training needs: start, rank and size, in-place sum all-reduces, abort, finish. */
#ifndef RESNETC_MPI_BRIDGE_H
#define RESNETC_MPI_BRIDGE_H

#include <stddef.h>

/* Loads libmpi (Open MPI's ABI, libmpi.so.40) and calls MPI_Init_thread (serialized). Returns 0 with *rank and *size
 * set, or -1 with a sentence in message. */
int rc_mpi_start(int *rank, int *size, char *message, size_t message_size);

/* In-place sums over every rank of `count` floats or doubles; 0, or the MPI error code. */
int rc_mpi_sum_floats(float *values, int count);
int rc_mpi_sum_doubles(double *values, int count);

/* In-place maximum and minimum over every rank of `count` doubles. */
int rc_mpi_max_doubles(double *values, int count);
int rc_mpi_min_doubles(double *values, int count);

/* The training step's average hook: values replaced by their mean over the ranks (context unused). */
void rc_mpi_average_doubles(void *context, double *values, int count);

/* Ends the whole job (every rank) with `code`, as a failing rank must under mpirun. */
void rc_mpi_abort(int code);

void rc_mpi_finish(void);

#endif
