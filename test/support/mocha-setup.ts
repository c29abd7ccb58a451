// Every test process resolves the emulated cloud's names to loopback.
import './loopback-dns.cjs';
