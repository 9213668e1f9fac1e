/*
 * wxgen.c - placeholder (issue 8).
 */
int main(void)
{
    return 0;
}
